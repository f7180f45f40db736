import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createDb, type Db } from '../db/knex';
import { migrationSource } from '../migrations';
import { seedIfEmpty } from '../db/setup';
import { applyRuntimeGrants } from '../db/roles';
import { recordAudit, verifyAuditChain } from '../db/audit';
import { chainAudit } from '../db/audit-chainer';
import { verifyRecords } from '../db/record-chain';
import { processSeal, sealKeyring, signCheckpoint, verifyCheckpoints } from '../db/seal';
import { intakeBatch, intakeProvider } from '../db/intake';
import { changeRecord } from '../db/records';
import { ROOT } from '../domain/config';
import { penaltyRow, registrationRow } from './support/fixtures';
import { pgToolsFor, type PgTools } from './support/pg-tools';

/**
 * Backup and restore (docs/deployment.md): the platform database dumped as its owner (`pg_dump -Fc`), restored into
 * a fresh database as the owner (`pg_restore --no-owner --no-acl`), then `npm run migrate` (the runtime role's grants)
 * and `npm run verify:audit` against the checkpoint log of the database dumped: the audit chain, the records and the
 * signed checkpoints verify on the restored database, as the runtime role. A restore that was altered, or a backup
 * older than the last signed checkpoint, does not.
 */
const run = promisify(execFile);
const suffix = crypto.randomBytes(4).toString('hex');
const OWNER = `qz_owner_bk_${suffix}`;
const APP = `qz_app_bk_${suffix}`;
const SOURCE = `qz_test_backup_${suffix}`;
const password = crypto.randomBytes(12).toString('hex');
const restoredNames: string[] = [];

let admin: Db;
let owner: Db;
let app: Db;
let tools: PgTools;
let dir: string;
let checkpointLog: string;
const opened: Db[] = [];

const urlAs = (user: string, database: string) => {
  const url = new URL(process.env.QZ_TEST_ADMIN_URL!);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
};
const connect = (user: string, database: string) => {
  const db = createDb(urlAs(user, database), 2);
  opened.push(db);
  return db;
};

/** What an operator runs, with a bound so a hung tool fails the test instead of holding it. */
async function tool(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return run(bin, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 });
}

async function dump(file: string): Promise<void> {
  // As the owner, in the custom format (compressed; pg_restore picks what to restore from it).
  await tool(tools.pgDump, ['--format=custom', `--file=${file}`, `--dbname=${urlAs(OWNER, SOURCE)}`]);
}

/** A fresh database owned by the owner, the dump restored into it as the owner; grants are the migration's to give. */
async function restore(file: string): Promise<string> {
  const name = `qz_test_restored_${suffix}_${restoredNames.length + 1}`;
  restoredNames.push(name);
  await admin.raw('CREATE DATABASE ?? OWNER ??', [name, OWNER]);
  await tool(tools.pgRestore, [
    '--no-owner',
    '--no-acl',
    '--exit-on-error',
    '--single-transaction',
    `--dbname=${urlAs(OWNER, name)}`,
    file,
  ]);
  return name;
}

/** `npm run <script>` as an operator runs it: against DATABASE_URL, the owner's for migrations, the seal key of the run. */
function npmScript(script: string, database: string) {
  return tool(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'scripts', script)], {
    DATABASE_URL: urlAs(APP, database),
    DATABASE_OWNER_URL: urlAs(OWNER, database),
    DATABASE_APP_ROLE: APP,
    CHECKPOINT_LOG: checkpointLog,
  });
}

let submissionRecords = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qz-backup-'));
  // The checkpoint log of the database dumped: kept outside the database, and outside its backup.
  checkpointLog = path.join(dir, 'checkpoints.jsonl');
  admin = createDb(process.env.QZ_TEST_ADMIN_URL!, 1);
  tools = await pgToolsFor(admin);
  await admin.raw(`CREATE ROLE ?? LOGIN PASSWORD '${password}'`, [OWNER]);
  await admin.raw(`CREATE ROLE ?? LOGIN PASSWORD '${password}'`, [APP]);
  await admin.raw('CREATE DATABASE ?? OWNER ??', [SOURCE, OWNER]);
  owner = connect(OWNER, SOURCE);
  await owner.migrate.latest({ migrationSource });
  expect(await applyRuntimeGrants(owner, APP)).toBe(true);
  await seedIfEmpty(owner);
  app = connect(APP, SOURCE);

  // What the platform holds: a batch of records, a correction, audit entries, a signed checkpoint.
  const providerId = (await app('providers').where('code', 'QZ-GSJ').first('id')).id as number;
  const [{ id: principalId }] = await app('principals')
    .insert({ name: '工商局报送员', role: 'provider', provider_id: providerId })
    .returning('id');
  const records = [penaltyRow(8101), penaltyRow(8102), registrationRow(8103)];
  const out = await intakeBatch(app, {
    provider: await intakeProvider(app, providerId),
    principalId,
    actor: 'test',
    idempotencyKey: `backup-${suffix}`,
    format: 'json',
    body: Readable.from([Buffer.from(JSON.stringify({ period: '2026-10', records }))]),
    jsonLimitBytes: 1 << 20,
    maxReportedErrors: 100,
  });
  expect(out.kind).toBe('accepted');
  if (out.kind !== 'accepted') return;
  submissionRecords = records.length;
  const first = (await app('records').where('submission_id', out.submissionId).orderBy('id').first('record_key')).record_key;
  const corrected = await changeRecord(app, providerId, principalId, 'test', first, {
    baseVersion: 1,
    reason: '罚款金额录入错误 / amount entered wrong',
    changes: { payload: { ...penaltyRow(8101).payload, amount: 3000 } },
  });
  expect(corrected.kind).toBe('ok');
  for (let i = 0; i < 3; i++)
    await recordAudit(app, { actor: 'test', action: 'test.backup', entity: 'test', id: `bk-${i}`, article: 'E23', detail: { i } });
  await chainAudit(app);
  expect(await signCheckpoint(app, processSeal(), checkpointLog, new Date('2026-12-03T08:00:00Z'))).not.toBeNull();
}, 120_000);

afterAll(async () => {
  for (const db of opened) await db.destroy().catch(() => undefined);
  if (admin) {
    for (const name of [SOURCE, ...restoredNames]) await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    await admin.raw('DROP ROLE IF EXISTS ??', [APP]);
    await admin.raw('DROP ROLE IF EXISTS ??', [OWNER]);
    await admin.destroy();
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a backup restored into a fresh database verifies', () => {
  test('pg_dump -Fc as the owner, pg_restore into a fresh database, migrate for the grants, then the three checks pass', async () => {
    // The database dumped verifies, so what follows is about the restore.
    expect((await verifyAuditChain(app)).ok).toBe(true);
    const before = await verifyRecords(app);
    expect(before).toMatchObject({ ok: true, checked: submissionRecords + 1 });
    const auditCount = Number((await app('audit_log').count({ n: '*' }))[0].n);

    const file = path.join(dir, 'platform.pgdump');
    await dump(file);
    const name = await restore(file);
    const restoredApp = connect(APP, name);
    // Restored without the source's grants: the runtime role reads nothing until the migration grants it.
    await expect(restoredApp('audit_log').count({ n: '*' })).rejects.toMatchObject({ code: '42501' });

    const migrated = await npmScript('migrate.ts', name);
    expect(migrated.stdout).toMatch(/schema is up to date/);

    // As the runtime role: what the platform runs as.
    const chain = await verifyAuditChain(restoredApp);
    expect(chain).toMatchObject({ ok: true, checked: auditCount, firstBroken: null });
    expect(await verifyRecords(restoredApp)).toMatchObject({ ok: true, checked: before.checked, firstBroken: null });
    expect(await verifyCheckpoints(restoredApp, sealKeyring(), checkpointLog)).toMatchObject({ ok: true, checked: 1 });
    const verified = await npmScript('verify-audit.ts', name);
    expect(verified.stdout).toMatch(/the audit chain is intact/);
    expect(verified.stdout).toMatch(/the chain matches 1 signed checkpoints/);

    // The grants are the runtime role's, no more: it writes audit entries, it cannot delete them.
    await recordAudit(restoredApp, { actor: 'test', action: 'test.after-restore', entity: 'test', id: 'r', article: 'E23' });
    expect(await chainAudit(restoredApp)).toBe(1);
    await expect(restoredApp.raw('DELETE FROM audit_log')).rejects.toMatchObject({ code: '42501' });
    await expect(restoredApp.raw(`UPDATE records SET payload = '{}'`)).rejects.toMatchObject({ code: '42501' });
  });
});

describe('a restore that does not match is named', () => {
  test('a record or an audit entry altered in the restored database fails its check', async () => {
    const file = path.join(dir, 'platform-2.pgdump');
    await dump(file);
    const name = await restore(file);
    await npmScript('migrate.ts', name);
    // Someone with the owner's rights on the restored copy, the triggers that refuse it switched off.
    const restoredOwner = connect(OWNER, name);
    await restoredOwner.transaction(async (trx) => {
      await trx.raw('ALTER TABLE records DISABLE TRIGGER records_content_fixed');
      await trx.raw(`UPDATE records SET payload = jsonb_set(payload, '{amount}', '1') WHERE item_code = 'E-PENALTY' AND is_current`);
      await trx.raw('ALTER TABLE records ENABLE TRIGGER records_content_fixed');
    });
    const records = await verifyRecords(restoredOwner);
    expect(records.ok).toBe(false);
    expect(records.firstBroken!.record_key).toMatch(/^[0-9a-f-]{36}$/);

    await restoredOwner.transaction(async (trx) => {
      await trx.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      await trx.raw(`UPDATE audit_log SET actor = 'someone else' WHERE action = 'test.backup'`);
      await trx.raw('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    });
    const chain = await verifyAuditChain(restoredOwner);
    expect(chain.ok).toBe(false);
    expect(chain.firstBroken).not.toBeNull();
    // verify:audit says so and exits 1.
    await expect(npmScript('verify-audit.ts', name)).rejects.toMatchObject({ code: 1, stdout: expect.stringMatching(/BROKEN/) });
  });

  test('a backup older than the last signed checkpoint: the restored chain is shorter than what was signed', async () => {
    const file = path.join(dir, 'platform-old.pgdump');
    await dump(file);
    // After the backup the platform goes on: more entries, a later checkpoint in the log.
    for (let i = 0; i < 2; i++)
      await recordAudit(app, { actor: 'test', action: 'test.after-backup', entity: 'test', id: `ab-${i}`, article: 'E23' });
    await chainAudit(app);
    expect(await signCheckpoint(app, processSeal(), checkpointLog, new Date('2026-12-03T09:00:00Z'))).not.toBeNull();
    expect(await verifyCheckpoints(app, sealKeyring(), checkpointLog)).toMatchObject({ ok: true, checked: 2 });

    const name = await restore(file);
    const restored = connect(OWNER, name);
    // The restored chain is whole in itself; the checkpoint log outside the database knows it lost entries.
    expect((await verifyAuditChain(restored)).ok).toBe(true);
    const checkpoints = await verifyCheckpoints(restored, sealKeyring(), checkpointLog);
    expect(checkpoints.ok).toBe(false);
    expect(checkpoints.firstBroken!.reason).toMatch(/chain is shorter than this signed checkpoint/);
  });
});
