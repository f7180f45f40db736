/**
 * The settings (domain/settings.ts, domain/config.ts, scripts/cli.ts): one schema with defaults and allowed values;
 * a refused value is one line naming the variable, the value and what is allowed; every entry point checks them
 * before it starts anything, and every command answers --help without side effects.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT,
  SETTINGS,
  SettingsError,
  loadConfig,
  logSettings,
  parseSettings,
  publicationSettings,
  sealSettings,
  settings,
  trustProxySetting,
} from '../domain/config';

const refusal = (env: NodeJS.ProcessEnv): SettingsError => {
  try {
    parseSettings(env);
  } catch (e) {
    if (e instanceof SettingsError) return e;
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
};

describe('the schema', () => {
  test('defaults: what the README gives, with paths made absolute against the project folder', () => {
    const s = parseSettings({});
    expect(s).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      PG_PORT: 54320,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'credit-platform',
      TRUST_PROXY: ['loopback'],
      PUBLICATION_WORKING_DAYS: 5,
      PUBLICATION_REVIEW_WORKING_DAYS: 1,
      OBLIGATION_REMINDER_WORKING_DAYS: [3, 1],
      PG_LOCK_TIMEOUT_MS: 10_000,
      AUDIT_CHAIN_INTERVAL_MS: 1_000,
      CHECKPOINT_EVERY_MINUTES: 60,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'pretty',
      METRICS_PORT: 9464,
      WORKER_METRICS_PORT: 9465,
      JSON_BODY_LIMIT: '20mb',
      DATABASE_APP_ROLE: 'qz_app',
      TZ: 'Asia/Shanghai',
    });
    expect(s.DATABASE_URL).toBeUndefined();
    expect(s.TEMPORAL_ADDRESS).toBeUndefined();
    expect(s.PG_DATA_DIR).toBe(path.join(ROOT, '.data/postgres'));
    expect(s.SEAL_KEY_FILE).toBe(path.join(ROOT, '.data/keys/seal-ed25519.pem'));
    // Defaults that follow another setting.
    expect(s.SEAL_RETIRED_DIR).toBe(path.join(ROOT, '.data/keys/retired'));
    expect(parseSettings({ SEAL_KEY_FILE: '/srv/keys/seal.pem' }).SEAL_RETIRED_DIR).toBe('/srv/keys/retired');
    expect(parseSettings({ NODE_ENV: 'production' }).LOG_FORMAT).toBe('json');
    // Empty is unset (but an empty reminder list means no reminders).
    expect(parseSettings({ PORT: '', PUBLICATION_WORKING_DAYS: ' ' })).toMatchObject({ PORT: 3000, PUBLICATION_WORKING_DAYS: 5 });
    expect(parseSettings({ OBLIGATION_REMINDER_WORKING_DAYS: '' }).OBLIGATION_REMINDER_WORKING_DAYS).toEqual([]);
  });

  test('values it takes', () => {
    const s = parseSettings({
      PORT: '65535',
      PG_PORT: '1',
      METRICS_PORT: '0',
      PG_STATEMENT_TIMEOUT_MS: '0',
      PUBLICATION_WORKING_DAYS: '3',
      OBLIGATION_REMINDER_WORKING_DAYS: '1, 5,1',
      TRUST_PROXY: '10.0.0.0/8, ::1, fd00::/8, uniquelocal',
      TEMPORAL_ADDRESS: '[::1]:7233',
      DATABASE_URL: 'postgresql://qz_app:pw@db.example.org:5432/qinzhou_credit',
      JSON_BODY_LIMIT: '512KB',
      LOG_FORMAT: 'json',
      TZ: 'UTC',
    });
    expect(s).toMatchObject({ PORT: 65535, PG_PORT: 1, METRICS_PORT: 0, PG_STATEMENT_TIMEOUT_MS: 0, PUBLICATION_WORKING_DAYS: 3 });
    expect(s.OBLIGATION_REMINDER_WORKING_DAYS).toEqual([5, 1]);
    expect(s.TRUST_PROXY).toEqual(['10.0.0.0/8', '::1', 'fd00::/8', 'uniquelocal']);
    expect(parseSettings({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(parseSettings({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
  });

  test.each([
    ['PORT', '70000', /1–65535/],
    ['PORT', '0', /1–65535/],
    ['PORT', 'abc', /1–65535/],
    ['PORT', '3.5', /1–65535/],
    ['PG_PORT', '-1', /1–65535/],
    ['METRICS_PORT', '65536', /0–65535/],
    ['TRUST_PROXY', 'nonsense', /CIDR/],
    ['TRUST_PROXY', '10.0.0.0/33', /CIDR/],
    ['TRUST_PROXY', '300.1.1.1', /CIDR/],
    ['PG_LOCK_TIMEOUT_MS', '-5', /0–2147483647/],
    ['CHANGE_FEED_HEARTBEAT_MS', '2147483648', /1–2147483647/],
    ['AUDIT_CHAIN_INTERVAL_MS', '0', /1–2147483647/],
    ['PUBLIC_RATE_SYNC_MS', '5', /10–2147483647/],
    ['PUBLICATION_WORKING_DAYS', '9', /E12: at most 5 working days/],
    ['PUBLICATION_WORKING_DAYS', '0', /1–5/],
    ['CHECKPOINT_EVERY_MINUTES', '1441', /E23: at most 1440 minutes/],
    ['SEAL_ROTATION_GRACE_MINUTES', '0', /1–1440/],
    ['OBLIGATION_REMINDER_WORKING_DAYS', '3,0', /1–60/],
    ['OBLIGATION_REMINDER_WORKING_DAYS', '3;1', /comma-separated/],
    ['LOG_LEVEL', 'loud', /one of trace, debug, info, warn, error, fatal, silent/],
    ['LOG_FORMAT', 'xml', /json or pretty/],
    ['JSON_BODY_LIMIT', '20megabytes', /kb or mb/],
    ['DATABASE_APP_ROLE', 'Qz-App', /role name/],
    ['TEMPORAL_ADDRESS', 'temporal:99999', /host:port/],
    ['DATABASE_URL', 'mysql://db/qz', /PostgreSQL URL/],
    ['TZ', 'Mars/Olympus_Mons', /IANA time zone/],
    ['HOST', 'local host', /without spaces/],
  ])('%s=%s is refused in one line that names it, its value and what is allowed', (name, value, allowed) => {
    const e = refusal({ [name]: value });
    expect(e.refusals.map((r) => r.name)).toEqual([name]);
    expect(e.message).not.toMatch(/\n/);
    const shown = /\s/.test(value) ? JSON.stringify(value) : value;
    expect(e.message).toContain(`${name}=${shown} — 应为：`);
    expect(e.message).toContain(SETTINGS[name as keyof typeof SETTINGS].allowed.zh);
    expect(e.message).toMatch(/[\u4e00-\u9fff]/);
    expect(e.message).toMatch(allowed);
  });

  test('several refused values: one line naming each; a URL password is never shown', () => {
    const e = refusal({ PORT: '70000', LOG_LEVEL: 'loud', DATABASE_URL: 'postgres://qz:s3cret@db:5432/qz extra' });
    expect(e.refusals.map((r) => r.name).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).toContain('PORT=70000');
    expect(e.message).toContain('LOG_LEVEL=loud');
    expect(e.message).not.toContain('s3cret');
    expect(e.message).toContain('postgres://qz:***@db:5432/qz extra');
  });

  test('every setting is described in Chinese and English, and listed in the README settings table', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const missing: string[] = [];
    for (const [name, s] of Object.entries(SETTINGS)) {
      expect([name, s.meaning.zh.length > 0, s.meaning.en.length > 0, s.allowed.zh.length > 0, s.allowed.en.length > 0]).toEqual([
        name,
        true,
        true,
        true,
        true,
      ]);
      if (!table.includes(`\`${name}\``)) missing.push(name);
    }
    expect(missing).toEqual([]);
  });

  test('every variable the code reads from the environment is a setting of the schema', () => {
    // Not settings: the benches' arguments (BENCH_*), and Node's own NODE_OPTIONS, removed for a bench's API child.
    const notSettings = new Set(['BENCH_ROWS', 'BENCH_RUNS', 'BENCH_RECORDS', 'NODE_OPTIONS']);
    const read = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(rel);
        else if (rel.endsWith('.ts') && rel !== path.join('domain', 'settings.ts')) {
          const src = fs.readFileSync(path.join(ROOT, rel), 'utf8');
          for (const m of src.matchAll(
            /process\.env\.([A-Z_][A-Z0-9_]*)|process\.env\[['"]([A-Z_][A-Z0-9_]*)['"]\]|\benv\.([A-Z][A-Z0-9_]+)\b/g,
          ))
            read.add(m[1] ?? m[2] ?? m[3]);
        }
      }
    };
    for (const dir of ['api', 'activities', 'db', 'domain', 'ops', 'processes', 'scripts', 'worker', 'workflows', 'bench'])
      if (fs.existsSync(path.join(ROOT, dir))) walk(dir);
    expect(read.size).toBeGreaterThan(0);
    expect([...read].filter((v) => !(v in SETTINGS) && !notSettings.has(v)).sort()).toEqual([]);
  });
});

describe('the accessors read the one parsed object', () => {
  const withEnv = (vars: Record<string, string | undefined>, fn: () => void) => {
    const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const set = (v: Record<string, string | undefined>) => {
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) delete process.env[k];
        else process.env[k] = x;
      }
    };
    set(vars);
    try {
      fn();
    } finally {
      set(before);
    }
  };

  test('kept while the environment is unchanged; parsed again when it changes; a refused value throws there', () => {
    expect(settings()).toBe(settings());
    const kept = settings();
    withEnv({ PUBLIC_RATE_LIMIT: '7', CHECKPOINT_EVERY_MINUTES: '15', PORT: '4100', LOG_LEVEL: 'warn' }, () => {
      expect(settings()).not.toBe(kept);
      expect(publicationSettings().publicRateLimit).toBe(7);
      expect(sealSettings().checkpointEveryMinutes).toBe(15);
      expect(loadConfig().apiPort).toBe(4100);
      expect(logSettings().level).toBe('warn');
    });
    withEnv({ TRUST_PROXY: 'nonsense' }, () => {
      expect(() => trustProxySetting()).toThrow(/TRUST_PROXY=nonsense/);
      expect(() => loadConfig()).toThrow(SettingsError);
    });
    expect(publicationSettings().publicRateLimit).toBe(Number(process.env.PUBLIC_RATE_LIMIT || 300));
    expect(() => loadConfig()).not.toThrow();
  });

  test('an accessor given an environment or a value reads that one', () => {
    expect(publicationSettings({ PUBLIC_RATE_LIMIT: '11' }).publicRateLimit).toBe(11);
    expect(trustProxySetting('false')).toBe(false);
    expect(trustProxySetting('3')).toBe(3);
    expect(() => trustProxySetting('10.0.0.0/8, not-an-address')).toThrow(/TRUST_PROXY="10.0.0.0\/8, not-an-address"/);
  });
});

// ─── The entry points, as processes ─────────────────────────────────────────────────────────────────────────

const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
/** Nothing listens on port 1: a command that connected would fail (exit 1 or 2 after a wait), never exit 0 at once. */
const UNREACHABLE = { DATABASE_URL: 'postgres://qz:pw@127.0.0.1:1/qz', TEMPORAL_ADDRESS: '127.0.0.1:1' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(script: string, args: string[], env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [script, ...args], { cwd: ROOT, env: { ...process.env, ...UNREACHABLE, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Exit 2, one line on stderr that names the variable and its value, no stack trace, nothing started. */
function expectRefused(r: Run, named: string): void {
  expect({ code: r.code, lines: r.stderr.trim().split('\n').length }).toEqual({ code: 2, lines: 1 });
  expect(r.stderr).toContain(named);
  expect(r.stderr).toContain('配置错误 / invalid setting');
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout).toBe('');
  // Quickly: no connection was tried (PG_CONNECT_TIMEOUT_MS alone is 5 s, and startup retries for longer).
  expect(r.ms).toBeLessThan(15_000);
}

describe('every entry point checks its settings before it starts anything', () => {
  test('api/main.ts: PORT=70000 and TRUST_PROXY=nonsense', async () => {
    expectRefused(await run('api/main.ts', [], { PORT: '70000' }), 'PORT=70000');
    expectRefused(await run('api/main.ts', [], { TRUST_PROXY: 'nonsense' }), 'TRUST_PROXY=nonsense');
  });

  test('worker/main.ts: PG_LOCK_TIMEOUT_MS=-5', async () => {
    expectRefused(await run('worker/main.ts', [], { PG_LOCK_TIMEOUT_MS: '-5' }), 'PG_LOCK_TIMEOUT_MS=-5');
  });

  test('npm start (scripts/start.ts): PUBLICATION_WORKING_DAYS=9, before any PostgreSQL or Temporal is started', async () => {
    const r = await run('scripts/start.ts', [], { PUBLICATION_WORKING_DAYS: '9' });
    expectRefused(r, 'PUBLICATION_WORKING_DAYS=9');
    expect(r.stderr).toContain('E12');
  });

  test('npm run migrate: LOG_LEVEL=loud', async () => {
    expectRefused(await run('scripts/migrate.ts', [], { LOG_LEVEL: 'loud' }), 'LOG_LEVEL=loud');
  });
});

describe('every command answers --help without side effects, and refuses an unknown argument in one line', () => {
  test('npm run migrate -- --help: the usage, exit 0, no database connection', async () => {
    const r = await run('scripts/migrate.ts', ['--help'], {});
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('用法 / usage: npm run migrate');
    expect(r.stdout).not.toContain('[migrate]');
    const unknown = await run('scripts/migrate.ts', ['--dry-run'], {});
    expect({ code: unknown.code, lines: unknown.stderr.trim().split('\n') }).toEqual({
      code: 2,
      lines: [expect.stringContaining('unknown argument: --dry-run')],
    });
  });

  test('npm run key, npm run verify:audit and the services: -h / --help, exit 0', async () => {
    for (const [script, arg, text] of [
      ['scripts/create-key.ts', '-h', 'npm run key -- --role ROLE'],
      ['scripts/verify-audit.ts', '--help', 'npm run verify:audit'],
      ['api/main.ts', '--help', 'api/main.ts'],
      ['scripts/search-attributes.ts', '--help', 'npm run temporal:search-attributes'],
    ]) {
      const r = await run(script, [arg], {});
      expect({ script, code: r.code, stderr: r.stderr }).toEqual({ script, code: 0, stderr: '' });
      expect(r.stdout).toContain(text);
      expect(r.stdout).toContain('用法 / usage');
    }
  });

  test('npm run seal:key -- --help makes no key; an unknown argument makes none either', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qz-seal-help-'));
    try {
      const keyFile = path.join(dir, 'keys', 'seal.pem');
      const help = await run('scripts/seal-key.ts', ['--help'], { SEAL_KEY_FILE: keyFile });
      expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
      expect(help.stdout).toContain('npm run seal:key -- --rotate');
      const unknown = await run('scripts/seal-key.ts', ['--rotte'], { SEAL_KEY_FILE: keyFile });
      expect({ code: unknown.code, lines: unknown.stderr.trim().split('\n').length }).toEqual({ code: 2, lines: 1 });
      expect(unknown.stderr).toContain('--rotte');
      expect(fs.existsSync(path.dirname(keyFile))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
