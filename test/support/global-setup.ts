import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../db/embedded';
import { createDb } from '../../db/knex';
import { migrate, seedIfEmpty } from '../../db/setup';
import { ROOT } from '../../domain/config';
import { startPostgresOnThisClock, underFakedClock } from './clocked-postgres';
import { freePort } from './ports';

/**
 * Starts the test PostgreSQL (embedded, or the server of TEST_DATABASE_URL / DATABASE_URL) and builds a migrated,
 * seeded template database; every test file clones it into a database of its own.
 */
export default async function globalSetup(): Promise<void> {
  process.env.TZ = 'Asia/Shanghai';
  // A seal key of the run's own (db/seal.ts), never the platform's; each test database's checkpoint log beside it.
  const sealDir = path.join(ROOT, `.data/test-seal-${process.pid}`);
  fs.rmSync(sealDir, { recursive: true, force: true });
  fs.mkdirSync(sealDir, { recursive: true });
  process.env.QZ_TEST_SEAL_DIR = sealDir;
  process.env.SEAL_KEY_FILE = path.join(sealDir, 'seal-ed25519.pem');
  process.env.CHECKPOINT_DIR = sealDir;
  delete process.env.CHECKPOINT_LOG;
  let adminUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!adminUrl) {
    removeAbandonedServers();
    // A server of its own per run (its own folder and a free port), so two runs never meet.
    const port = Number(process.env.TEST_PG_PORT) || (await freePort());
    const dir = path.join(ROOT, `.data/test-postgres-${process.pid}`);
    const pg = underFakedClock() ? await startPostgresOnThisClock({ dir, port }) : await startEmbeddedPostgres({ dir, port, fresh: true });
    process.env.QZ_TEST_PG_DIR = dir;
    (globalThis as Record<string, unknown>).__QZ_TEST_PG__ = pg;
    adminUrl = pg.url('postgres');
  }
  const template = `qz_test_template_${process.pid}`;
  const admin = createDb(adminUrl, 1);
  await admin.raw(`DROP DATABASE IF EXISTS ${template}`);
  await admin.raw(`CREATE DATABASE ${template}`);
  await admin.destroy();
  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  const db = createDb(url.toString(), 2);
  await migrate(db);
  await seedIfEmpty(db);
  await db.destroy();
  process.env.QZ_TEST_ADMIN_URL = adminUrl;
  process.env.QZ_TEST_TEMPLATE_DB = template;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Folders of earlier runs that were killed before their teardown: neither the run nor its server is alive. */
function removeAbandonedServers(): void {
  const data = path.join(ROOT, '.data');
  if (!fs.existsSync(data)) return;
  for (const name of fs.readdirSync(data)) {
    const m = /^test-(?:postgres|seal)-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    const dir = path.join(data, name);
    const pidFile = path.join(dir, 'postmaster.pid');
    const serverPid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
    if (serverPid && alive(serverPid)) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
