import crypto from 'node:crypto';
import { createDb, type Db } from '../../db/knex';

export interface TestDb {
  db: Db;
  url: string;
  close(): Promise<void>;
}

/** A database of its own for one test file: a clone of the migrated, seeded template. */
export async function freshDatabase(): Promise<TestDb> {
  const adminUrl = process.env.QZ_TEST_ADMIN_URL;
  const template = process.env.QZ_TEST_TEMPLATE_DB;
  if (!adminUrl || !template) throw new Error('the jest global setup did not run');
  const name = `qz_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = createDb(adminUrl, 1);
  await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.destroy();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 10);
  return {
    db,
    url: url.toString(),
    close: async () => {
      await db.destroy();
      const a = createDb(adminUrl, 1);
      await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.destroy();
    },
  };
}
