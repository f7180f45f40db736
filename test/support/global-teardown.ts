import fs from 'node:fs';
import { createDb } from '../../db/knex';
import type { EmbeddedPg } from '../../db/embedded';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.QZ_TEST_ADMIN_URL;
  const pg = (globalThis as Record<string, unknown>).__QZ_TEST_PG__ as EmbeddedPg | undefined;
  if (adminUrl && !pg) {
    // An external server: leave it as it was.
    const admin = createDb(adminUrl, 1);
    const dbs = await admin.raw(`SELECT datname FROM pg_database WHERE datname LIKE 'qz_test_%'`);
    for (const { datname } of dbs.rows) await admin.raw(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.destroy();
  }
  if (process.env.QZ_TEST_SEAL_DIR) fs.rmSync(process.env.QZ_TEST_SEAL_DIR, { recursive: true, force: true });
  if (pg) {
    await pg.stop();
    if (process.env.QZ_TEST_PG_DIR) fs.rmSync(process.env.QZ_TEST_PG_DIR, { recursive: true, force: true });
  }
}
