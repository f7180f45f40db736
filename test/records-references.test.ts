import { Readable } from 'node:stream';
import { freshDatabase, type TestDb } from './support/db';
import { intakeBatch, intakeProvider } from '../db/intake';
import { penaltyRow, uscc } from './support/fixtures';

/**
 * What a record names (its provider, catalog item and submission) holds for every writer of `records` without a
 * per-row foreign key on the intake path (migration 0018): other writers are checked row by row by a trigger,
 * intake once per batch; the referenced rows cannot be removed while records name them.
 */
let t: TestDb;
let providerId: number;
let principalId: string;
const NOBODY = '00000000-0000-0000-0000-000000000000';

beforeAll(async () => {
  t = await freshDatabase();
  providerId = (await t.db('providers').where('code', 'QZ-GSJ').first('id')).id;
  [{ id: principalId }] = await t
    .db('principals')
    .insert({ name: '工商局报送员', role: 'provider', provider_id: providerId })
    .returning('id');
}, 60000);
afterAll(async () => {
  await t?.close();
});

const record = (over: Record<string, unknown> = {}) => ({
  provider_id: providerId,
  item_code: 'E-PENALTY',
  subject_type: 'enterprise',
  subject_id: uscc(9001),
  payload: JSON.stringify({ decision_no: 'X-1' }),
  event_date: '2026-03-01',
  created_by: NOBODY,
  ...over,
});

async function submission(key: string): Promise<string> {
  const [row] = await t
    .db('submissions')
    .insert({
      provider_id: providerId,
      period: '2026-10',
      idempotency_key: key,
      request_hash: '',
      format: 'csv',
      row_count: 0,
      received_at: t.db.fn.now(),
      workflow_id: key,
      created_by: NOBODY,
    })
    .returning('id');
  return row.id;
}

const refusal = (e: unknown) => ({ code: (e as { code?: string }).code, constraint: (e as { constraint?: string }).constraint });

describe('a record written outside intake is checked row by row', () => {
  test('a provider, a catalog item or a submission that does not exist is refused as a foreign key would refuse it', async () => {
    await expect(
      t
        .db('records')
        .insert(record({ provider_id: 999999 }))
        .catch((e) => Promise.reject(refusal(e))),
    ).rejects.toEqual({
      code: '23503',
      constraint: 'records_provider_id_exists',
    });
    await expect(
      t
        .db('records')
        .insert(record({ item_code: 'E-NO-SUCH' }))
        .catch((e) => Promise.reject(refusal(e))),
    ).rejects.toEqual({
      code: '23503',
      constraint: 'records_item_code_exists',
    });
    await expect(
      t
        .db('records')
        .insert(record({ submission_id: '11111111-1111-4111-8111-111111111111' }))
        .catch((e) => Promise.reject(refusal(e))),
    ).rejects.toEqual({ code: '23503', constraint: 'records_submission_id_exists' });
    expect(Number((await t.db('records').count({ n: '*' }))[0].n)).toBe(0);
  });

  test("intake's exemption covers its own submission in its own transaction only", async () => {
    const checked = await submission('exempt-1');
    await expect(
      t.db.transaction(async (trx) => {
        await trx.raw("SELECT set_config('qz.checked_submission', ?, true)", [checked]);
        await trx('records').insert(record({ submission_id: checked }));
        // Another submission's rows are still checked: this one does not exist.
        await trx('records').insert(record({ submission_id: '22222222-2222-4222-8222-222222222222' }));
      }),
    ).rejects.toMatchObject({ code: '23503', constraint: 'records_submission_id_exists' });
    // The setting ended with its transaction: a bad provider on the exempted submission is refused now.
    await expect(t.db('records').insert(record({ submission_id: checked, provider_id: 999999 }))).rejects.toMatchObject({
      code: '23503',
      constraint: 'records_provider_id_exists',
    });
  });

  test("a record's references cannot be changed, nor to something that does not exist; other updates are not checked", async () => {
    const [{ id }] = await t
      .db('records')
      .insert(record({ subject_id: uscc(9002) }))
      .returning('id');
    // A stored version never changes (migration 0022); with that trigger off, the references are still checked.
    await expect(t.db('records').where('id', id).update({ provider_id: 999999 })).rejects.toMatchObject({ code: '23000' });
    const undo = new Error('undo');
    await t.db
      .transaction(async (trx) => {
        await trx.raw('ALTER TABLE records DISABLE TRIGGER records_content_fixed');
        await trx.raw('SAVEPOINT s');
        await expect(trx('records').where('id', id).update({ provider_id: 999999 })).rejects.toMatchObject({ code: '23503' });
        await trx.raw('ROLLBACK TO SAVEPOINT s');
        await expect(trx('records').where('id', id).update({ item_code: 'E-NO-SUCH' })).rejects.toMatchObject({ code: '23503' });
        throw undo;
      })
      .catch((e) => {
        if (e !== undo) throw e;
      });
    expect(await t.db.raw(`SELECT tgenabled FROM pg_trigger WHERE tgname = 'records_content_fixed'`)).toMatchObject({
      rows: [{ tgenabled: 'O' }],
    });
    await t.db('records').where('id', id).update({ is_current: false });
    expect((await t.db('records').where('id', id).first('provider_id', 'item_code', 'is_current')).is_current).toBe(false);
  });
});

describe('what records name cannot be removed', () => {
  test('a provider, a catalog item or a submission named by a record is kept; an unnamed one can go', async () => {
    const sub = await submission('named-1');
    await t.db('records').insert(record({ submission_id: sub, subject_id: uscc(9003) }));
    await expect(t.db('submissions').where('id', sub).delete()).rejects.toMatchObject({ code: '23503', constraint: 'records_references' });
    await expect(t.db('catalog_items').where('code', 'E-PENALTY').delete()).rejects.toMatchObject({ code: '23503' });
    await expect(t.db('catalog_items').where('code', 'E-PENALTY').update({ code: 'E-PENALTY-2' })).rejects.toMatchObject({
      code: '23503',
    });
    const unnamed = await submission('unnamed-1');
    expect(await t.db('submissions').where('id', unnamed).delete()).toBe(1);
    expect(await t.db('catalog_items').where('code', 'E-PENALTY').first('code')).toEqual({ code: 'E-PENALTY' });
  });
});

describe('intake checks its batch once', () => {
  test('a batch is stored with time-ordered record keys, and the exemption does not outlive it', async () => {
    const provider = await intakeProvider(t.db, providerId);
    const rows = [1, 2, 3].map((n) => penaltyRow(9100 + n));
    const csv =
      'item_code,subject_id,event_date,decision_no,violation,penalty,authority\n' +
      rows
        .map((r) =>
          [
            r.item_code,
            r.subject_id,
            r.event_date,
            r.payload.decision_no,
            r.payload.violation,
            r.payload.penalty,
            r.payload.authority,
          ].join(','),
        )
        .join('\n');
    const out = await intakeBatch(t.db, {
      provider,
      principalId,
      actor: 'test',
      idempotencyKey: 'refs-batch-1',
      format: 'csv',
      queryPeriod: '2026-10',
      body: Readable.from([Buffer.from(csv)]),
      jsonLimitBytes: 1 << 20,
      maxReportedErrors: 100,
    });
    expect(out.kind).toBe('accepted');
    if (out.kind !== 'accepted') return;
    const keys: Array<{ record_key: string }> = await t
      .db('records')
      .where('submission_id', out.submissionId)
      .orderBy('id')
      .select('record_key');
    expect(keys).toHaveLength(3);
    for (const k of keys) expect(k.record_key[14]).toBe('7'); // UUID version 7
    expect([...keys.map((k) => k.record_key)].sort()).toEqual(keys.map((k) => k.record_key));
    // Every connection of the pool is back to checking rows of that submission.
    const settings = await Promise.all(
      Array.from({ length: 10 }, () => t.db.raw("SELECT coalesce(current_setting('qz.checked_submission', true), '') AS s")),
    );
    for (const s of settings) expect(s.rows[0].s).toBe('');
    await expect(t.db('records').insert(record({ submission_id: out.submissionId, item_code: 'E-NO-SUCH' }))).rejects.toMatchObject({
      code: '23503',
    });
  });
});
