import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../domain/config';
import { SETTING_NAMES, parseSettings } from '../domain/settings';

/**
 * The operators' files in deploy/ (docs/deployment.md) say what the platform accepts: the environment file sets only
 * settings the platform knows, each value accepted; the units start the entry points the build makes, as the
 * platform's user, with that environment, stop them with SIGTERM and time enough for the ordered shutdown, and let
 * the worker write the checkpoint log's folder and nothing else.
 */
const DEPLOY = path.join(ROOT, 'deploy');
const read = (f: string) => fs.readFileSync(path.join(DEPLOY, f), 'utf8');

/** KEY=value lines, comments and blank lines left out. */
function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not a KEY=value line: ${line}`);
    out[m[1]] = m[2];
  }
  return out;
}

/** A unit's directives, each name with every value it is given. */
function unit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}
const one = (u: Map<string, string[]>, name: string) => {
  const v = u.get(name);
  if (!v || v.length !== 1) throw new Error(`${name}: ${v ? 'given more than once' : 'missing'}`);
  return v[0];
};

/** The compiled entry points (tsconfig.build.json, `npm run build`). */
const built = (JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')).files as string[]).map((f) =>
  path.join('dist', f.replace(/\.ts$/, '.js')),
);

describe('deploy/qinzhou.env.example', () => {
  const env = envFile(read('qinzhou.env.example'));

  test('sets only settings the platform knows, and every value is accepted', () => {
    const known = new Set<string>([...SETTING_NAMES, 'NODE_OPTIONS']);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    expect(() => parseSettings(env)).not.toThrow();
    expect(parseSettings(env)).toMatchObject({ LOG_FORMAT: 'json' });
  });

  test("holds what a production process needs, and never the owner's connection", () => {
    for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SEAL_KEY_FILE', 'CHECKPOINT_LOG'])
      expect([name, env[name]]).toEqual([name, expect.any(String)]);
    expect(env.DATABASE_OWNER_URL).toBeUndefined();
    expect(Object.keys(envFile(read('owner.env.example')))).toEqual(['DATABASE_OWNER_URL']);
  });
});

describe('deploy/*.service', () => {
  const env = envFile(read('qinzhou.env.example'));
  const units = {
    api: unit(read('qinzhou-api.service')),
    worker: unit(read('qinzhou-worker.service')),
    migrate: unit(read('qinzhou-migrate.service')),
  };

  test('each starts an entry point the build makes, as the platform user, with the environment file', () => {
    const entries = { api: 'dist/api/main.js', worker: 'dist/worker/main.js', migrate: 'dist/scripts/migrate.js' };
    for (const [name, u] of Object.entries(units)) {
      const entry = entries[name as keyof typeof entries];
      expect(built).toContain(entry);
      expect(one(u, 'ExecStart')).toBe(`/usr/bin/node ${entry}`);
      expect(one(u, 'WorkingDirectory')).toBe('/opt/qinzhou');
      expect(one(u, 'User')).toBe('qinzhou');
      expect(u.get('EnvironmentFile')).toContain('/etc/qinzhou/qinzhou.env');
      expect(one(u, 'NoNewPrivileges')).toBe('yes');
      expect(one(u, 'ProtectSystem')).toBe('strict');
    }
    expect(units.migrate.get('EnvironmentFile')).toContain('/etc/qinzhou/owner.env');
    expect(units.api.get('EnvironmentFile')).not.toContain('/etc/qinzhou/owner.env');
    expect(units.worker.get('EnvironmentFile')).not.toContain('/etc/qinzhou/owner.env');
  });

  test('the services stop with SIGTERM, with time for the ordered shutdown, and are restarted on failure but not on bad settings', () => {
    // The bounds of the shutdown (api/main.ts: the HTTP server 15 s; worker/main.ts: the worker 60 s), and a margin.
    for (const [u, atLeast] of [
      [units.api, 15],
      [units.worker, 60],
    ] as const) {
      expect(one(u, 'KillSignal')).toBe('SIGTERM');
      expect(Number(one(u, 'TimeoutStopSec'))).toBeGreaterThan(atLeast);
      expect(one(u, 'Restart')).toBe('on-failure');
      expect(one(u, 'RestartPreventExitStatus')).toBe('2');
    }
  });

  test('the worker may write the folder of the checkpoint log, and nothing else; the API writes nothing', () => {
    expect(units.worker.get('ReadWritePaths')).toEqual([path.dirname(env.CHECKPOINT_LOG)]);
    expect(units.api.get('ReadWritePaths')).toBeUndefined();
    expect(units.migrate.get('ReadWritePaths')).toBeUndefined();
  });

  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((f) => fs.existsSync(f));
  (analyze ? test : test.skip)('systemd-analyze verify finds nothing to say', () => {
    const files = ['qinzhou-api.service', 'qinzhou-worker.service', 'qinzhou-migrate.service'].map((f) => path.join(DEPLOY, f));
    // It names an unknown or malformed directive on stderr and still exits 0: both streams must be empty.
    const r = spawnSync(analyze!, ['verify', ...files], { encoding: 'utf8' });
    expect({ status: r.status, said: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, said: '' });
  });
});
