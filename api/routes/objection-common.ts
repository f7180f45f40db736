import { z } from '../../domain/z';
import { shanghaiDate } from '../../domain/calendar';
import { OBJECTION_STATES, OBJECTION_STATE_ZH, workingDaysLeft, type ObjectionState } from '../../domain/objections';
import type { Principal } from '../../domain/roles';
import { loadCalendar } from '../../db/calendar';
import { ObjectionStateError, objectionFor, objectionItems, writtenAnswerOf } from '../../db/objections';
import { attachmentsOf } from '../../db/objection-attachments';
import { objectionStateQuery } from '../../processes/messages';
import { queryProcess } from '../../processes/client';
import type { AppDeps } from '../app';
import { actorLabel } from '../auth';
import { HttpError, notFound } from '../errors';
import { registry } from '../openapi';

/**
 * What the two objection routers share (objections.ts: the applicant's side and the public notices;
 * objection-handling.ts: staff and the provider): the objection as the API shows it — its schema and the view
 * every answer carries —, the id parameter, and the answer to a step the objection's state does not allow.
 */

export const Uuid = (what: string) => z.string().uuid({ message: `${what}应为 UUID / ${what} must be a UUID` });
export const IdParam = z.object({ id: Uuid('异议编号') });
export const Reason = z.string().trim().min(2, { message: '请说明理由 / give the reason' }).max(2000);
export const ReasonBody = z.object({ reason: Reason }).strict();

const ItemSchema = z.object({
  record_key: z.string(),
  version_at_filing: z.number(),
  item_code: z.string(),
  item_name: z.string(),
  category: z.string(),
  result: z.enum(['corrected', 'deleted', 'unchanged', 'gone']).nullable(),
  result_version: z.number().nullable(),
});
export const AttachmentSchema = registry.register(
  'ObjectionAttachment',
  z.object({
    id: z.string(),
    objection_id: z.string(),
    file_name: z.string(),
    content_type: z.string(),
    size_bytes: z.number(),
    sha256: z.string(),
    uploaded_by: z.string(),
    uploaded_at: z.string(),
  }),
);
export const ObjectionSchema = registry.register(
  'Objection',
  z
    .object({
      id: z.string().uuid(),
      state: z.enum(OBJECTION_STATES),
      state_zh: z.string(),
      subject_type: z.enum(['enterprise', 'person']),
      subject_id: z.string(),
      provider: z.string(),
      claim: z.string(),
      acceptance_date: z.string().nullable(),
      deadline: z.string().nullable().openapi({ description: '受理后第 10 个工作日（E18、P22）/ the 10th working day after acceptance' }),
      due_at: z.string().nullable(),
      deadline_provisional: z.boolean().openapi({
        description:
          '暂定期限：其间有年份的工作日历尚未载入，为最早可能的日期；信息提供单位在确定的期限前不算逾期 / provisional: the earliest the deadline can be; the provider is not late before the settled one',
      }),
      calendar_pending_year: z.number().int().nullable(),
      working_days_left: z
        .number()
        .nullable()
        .openapi({ description: '今天之后至期限的工作日数（期限当天为 0）/ working days after today up to the deadline' }),
      overdue: z.boolean(),
      provider_verdict: z.enum(['confirmed_wrong', 'confirmed_right']).nullable(),
      outcome: z.enum(['corrected', 'upheld']).nullable(),
      written_answer: z.string().nullable(),
      items: z.array(ItemSchema),
      attachments: z.array(AttachmentSchema),
      process: z
        .record(z.string(), z.unknown())
        .nullable()
        .openapi({ description: '流程的实时状态（工作流查询）/ the live process state' }),
    })
    .passthrough(),
);

// ─── OpenAPI pieces ──────────────────────────────────────────────────────────────────────────────────────────

export const tags = ['异议 Objections'];
export const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
export const one = { description: 'the objection', ...json(z.object({ objection: ObjectionSchema })) };

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

export const by = (p: Principal) => ({ id: p.id, actor: actorLabel(p) });

export const stateConflict = (e: ObjectionStateError, article?: string) =>
  new HttpError(
    409,
    'OBJECTION_STATE_CONFLICT',
    e.message,
    [{ field: 'state', reason: `当前状态：${OBJECTION_STATE_ZH[e.state]} / ${e.state}`, ...(article ? { article } : {}) }],
    { state: e.state },
  );

/** Runs a repository step; a state it does not allow answers 409 (naming `article`). */
export const guard = async <T>(f: () => Promise<T>, article?: string): Promise<T> => {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ObjectionStateError) throw stateConflict(e, article);
    throw e;
  }
};

/**
 * The objection as `p` may see it (404 otherwise), with its working days left, whether it is overdue, its items and
 * evidence and, when `live`, the process's own state (a workflow query).
 */
export const objectionViewer =
  ({ db, temporal }: Pick<AppDeps, 'db' | 'temporal'>) =>
  async (p: Principal, id: string, live = true) => {
    const row = await objectionFor(db, p, id);
    if (!row) throw notFound(`异议 ${id}`);
    const today = shanghaiDate(new Date());
    let left: number | null = null;
    try {
      left = workingDaysLeft(await loadCalendar(db), today, row.deadline);
    } catch {
      left = null; // a year without a calendar: shown as unknown
    }
    let process: Record<string, unknown> | null = null;
    if (live && row.workflow_id) {
      try {
        process = (await queryProcess(temporal, row.workflow_id, objectionStateQuery)) as unknown as Record<string, unknown>;
      } catch {
        process = null; // not started yet, or Temporal unreachable: the database answers
      }
    }
    // Nobody is late on a provisional deadline: only the settled one makes the provider overdue.
    const overdue =
      !!row.verification_overdue_at || (row.deadline !== null && !row.outcome && !row.deadline_provisional && today > row.deadline);
    return {
      ...row,
      state_zh: OBJECTION_STATE_ZH[row.state as ObjectionState],
      working_days_left: left,
      overdue,
      written_answer: row.outcome ? await writtenAnswerOf(db, id) : null,
      items: await objectionItems(db, id),
      attachments: await attachmentsOf(db, id),
      process,
    };
  };

export type ObjectionViewer = ReturnType<typeof objectionViewer>;
