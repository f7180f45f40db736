/**
 * A period with nothing to report (零报送, E7, P9): a provider declares, for its own obligation, that it holds no new
 * credit information for the period. The declaration fulfils the obligation as a batch would (`fulfilObligation`:
 * on time before its due date ended, late after, an open compliance case resolved as a late batch resolves it), so
 * no overdue, order or escalation follows for a department that simply had nothing new (E20, P24).
 */
import type { Db } from './knex';
import { queueSignals } from './signal-outbox';
import { isoColumn } from './time';
import { recordAudit } from './audit';
import { fulfilObligation, obligationById, type FulfilmentResult } from './obligations';

export interface NilReturnInput {
  obligationId: number;
  /** The declaring provider's principal: only its own provider's obligation. */
  principalId: string;
  actor: string;
  providerId: number;
  note: string | null;
  /** Today in Asia/Shanghai (YYYY-MM-DD): a period that has not begun cannot be declared. */
  today: string;
}

export type NilReturnOutcome =
  | { kind: 'not_found' }
  | { kind: 'waived' }
  | { kind: 'not_begun'; periodStart: string }
  | { kind: 'already_declared'; declaredAt: string }
  | { kind: 'batch_accepted'; submissionId: string }
  | {
      kind: 'declared';
      workflowId: string;
      declaredAt: string;
      fulfilment: FulfilmentResult;
      /** The obligation's workflow (and a resolved case's) are told: queued with the declaration. */
      signalIds: string[];
    };

/** Declares that there was nothing to report for the obligation's period, and fulfils the obligation with it. */
export async function declareNilReturn(db: Db, input: NilReturnInput): Promise<NilReturnOutcome> {
  return db.transaction(async (trx) => {
    const o = await obligationById(trx, input.obligationId, true);
    // Another provider's obligation is not there for this one (E10, E23).
    if (!o || o.provider_id !== input.providerId) return { kind: 'not_found' };
    if (o.state === 'waived') return { kind: 'waived' };
    if (o.period_start > input.today) return { kind: 'not_begun', periodStart: o.period_start };
    const existing = await trx('nil_returns').where('obligation_id', o.id).first(isoColumn(trx, 'declared_at'));
    if (existing) return { kind: 'already_declared', declaredAt: existing.declared_at };
    const batch = await trx('submissions').where({ provider_id: o.provider_id, period: o.period }).orderBy('received_at').first('id');
    if (batch) return { kind: 'batch_accepted', submissionId: batch.id };
    const [row] = await trx('nil_returns')
      .insert({
        obligation_id: o.id,
        provider_id: o.provider_id,
        period: o.period,
        declared_by: input.principalId,
        actor: input.actor,
        note: input.note,
      })
      .returning(isoColumn(trx, 'declared_at') as never);
    const article = 'E7, P9';
    const detail = { period: o.period, dueDate: o.due_date, note: input.note, article };
    await trx('obligation_events').insert({
      obligation_id: o.id,
      kind: 'nil_return',
      principal_id: input.principalId,
      actor: input.actor,
      detail,
    });
    await recordAudit(trx, {
      principalId: input.principalId,
      actor: input.actor,
      action: 'obligation.nil_return',
      entity: 'obligation',
      id: o.id,
      article,
      detail: { period: o.period, dueDate: o.due_date, note: input.note },
    });
    const fulfilment = await fulfilObligation(trx, o);
    const signalIds = await queueSignals(trx, [
      { workflowId: o.workflow_id, signal: 'submissionReceived', args: ['nil-return'] },
      ...(fulfilment.resolvedCase ? [{ workflowId: fulfilment.resolvedCase.workflowId, signal: 'caseChanged' as const }] : []),
    ]);
    return { kind: 'declared', workflowId: o.workflow_id, declaredAt: (row as { declared_at: string }).declared_at, fulfilment, signalIds };
  });
}

/** The nil returns, newest period first (admin, supervisor), optionally of a period and some providers. */
export async function listNilReturns(db: Db, q: { period?: string; providers?: string[]; limit: number; offset: number }) {
  const base = db('nil_returns as n')
    .join('obligations as o', 'o.id', 'n.obligation_id')
    .join('providers as p', 'p.id', 'n.provider_id')
    .modify((b) => {
      if (q.period) b.where('n.period', q.period);
      if (q.providers) b.whereIn('p.code', q.providers);
    });
  const [{ n }] = await base.clone().count({ n: '*' });
  const rows = await base
    .orderBy([{ column: 'o.period_start', order: 'desc' }, { column: 'p.code' }])
    .limit(q.limit)
    .offset(q.offset)
    .select(
      'n.obligation_id',
      'p.code as provider',
      'p.name_zh as provider_name',
      'n.period',
      'o.due_date',
      isoColumn(db, 'n.declared_at'),
      'n.actor as declared_by',
      'n.note',
      'o.on_time',
    );
  return { total: Number(n), nil_returns: rows.map((r: Record<string, unknown>) => ({ ...r, obligation_id: Number(r.obligation_id) })) };
}
