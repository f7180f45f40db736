/**
 * `npm run migrate`: brings the schema up to date and seeds an empty database (catalog, providers, calendar).
 * Against DATABASE_URL, or the embedded PostgreSQL: the running one when the platform is up, otherwise it is
 * started for this command and stopped afterwards.
 */
import { runDatabaseCommand } from './database-command';

const say = (m: string) => console.log(`[migrate] ${m}`);

runDatabaseCommand('migrate', say, async ({ location }) => {
  say(`done: ${location}`);
  return 0;
});
