import { databaseAppRole } from '../domain/config';
import type { Db } from './knex';

/**
 * Least privilege in the database (E23, P26). Two roles: the **owner**, which runs the migrations and owns every
 * table (DATABASE_OWNER_URL), and the **runtime role** the API and the worker connect as (DATABASE_URL; its name
 * DATABASE_APP_ROLE, default `qz_app`), which owns nothing and is granted, after every migration run:
 *
 * - on the audit and record tables, and on every append-only table: SELECT and INSERT only — never UPDATE, DELETE or
 *   TRUNCATE (of `records`, only the move of `is_current` to a later version; of the chain head, SELECT);
 * - on every other table: SELECT, INSERT, UPDATE, DELETE (no TRUNCATE); its sequences: USAGE;
 * - the owner's functions that do the rest, one thing each (migrations 0024, 0025).
 *
 * A table a later migration adds is granted in full unless it is named here.
 */
const APPEND_ONLY = ['audit_log', 'record_erasures', 'audit_checkpoints', 'documents', 'query_log', 'query_log_items'];
const READ_ONLY = ['audit_chain_head', 'knex_migrations', 'knex_migrations_lock'];
const OWNER_FUNCTIONS = ['qz_audit_chain(integer)', 'qz_retention_purge(date, integer, uuid)'];

/** DATABASE_APP_ROLE (domain/settings.ts: a plain role name, default `qz_app`). */
export function runtimeRoleName(): string {
  return databaseAppRole();
}

/** Grants the runtime role what it may do (above); nothing when the role does not exist (the owner runs the platform). */
export async function applyRuntimeGrants(owner: Db, role: string = runtimeRoleName()): Promise<boolean> {
  const found = await owner('pg_roles').where('rolname', role).first('rolname');
  if (!found) return false;
  const tables = (
    (await owner.raw(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)) as {
      rows: { tablename: string }[];
    }
  ).rows.map((r) => r.tablename);
  await owner.transaction(async (trx) => {
    const schema = await currentSchema(trx);
    await trx.raw('GRANT USAGE ON SCHEMA ?? TO ??', [schema, role]);
    for (const t of tables) {
      await trx.raw('REVOKE ALL ON TABLE ?? FROM ??', [t, role]);
      if (APPEND_ONLY.includes(t)) await trx.raw('GRANT SELECT, INSERT ON TABLE ?? TO ??', [t, role]);
      else if (READ_ONLY.includes(t)) await trx.raw('GRANT SELECT ON TABLE ?? TO ??', [t, role]);
      else if (t === 'records') await trx.raw('GRANT SELECT, INSERT, UPDATE (is_current) ON TABLE ?? TO ??', [t, role]);
      else await trx.raw('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ?? TO ??', [t, role]);
    }
    await trx.raw('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ?? TO ??', [schema, role]);
    for (const f of OWNER_FUNCTIONS) {
      // A function a later migration brings (or an earlier one took away) is granted where it exists.
      const { rows } = (await trx.raw('SELECT to_regprocedure(?) IS NOT NULL AS present', [f])) as { rows: { present: boolean }[] };
      if (rows[0].present) await trx.raw(`GRANT EXECUTE ON FUNCTION ${f} TO ??`, [role]);
    }
  });
  return true;
}

async function currentSchema(db: Db): Promise<string> {
  const { rows } = (await db.raw('SELECT current_schema() AS s')) as { rows: { s: string }[] };
  return rows[0].s;
}
