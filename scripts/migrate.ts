/**
 * `npm run migrate`: brings the schema up to date and seeds an empty database (catalog, providers, calendar).
 * Against DATABASE_URL, or the embedded PostgreSQL: the running one when the platform is up, otherwise it is
 * started for this command and stopped afterwards.
 */
import { runDatabaseCommand } from './database-command';
import { commandLine } from './cli';

const USAGE = `用法 / usage: npm run migrate

  将数据库结构迁移到最新版本；空数据库另行写入初始数据（目录、信息提供单位、日历）。
  Brings the schema up to date; an empty database is seeded (catalog, providers, calendar).
  数据库 / database: DATABASE_URL（以 DATABASE_OWNER_URL 的所有者身份迁移 / migrated as the owner of DATABASE_OWNER_URL），
  或内嵌 PostgreSQL / or the embedded PostgreSQL (PG_DATA_DIR, PG_PORT).

  -h, --help   显示本说明 / show this help`;

commandLine('migrate', USAGE);

const say = (m: string) => console.log(`[migrate] ${m}`);

runDatabaseCommand('migrate', say, async ({ location }) => {
  say(`done: ${location}`);
  return 0;
});
