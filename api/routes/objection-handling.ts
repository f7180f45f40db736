import { errorField, logger } from '../../ops/log';
import express, { Router } from 'express';
import { z } from '../../domain/z';
import { RecordChanges } from '../../domain/records';
import { OBJECTION_STATE_ZH, type ObjectionState } from '../../domain/objections';
import type { Db } from '../../db/knex';
import { ObjectionStateError, acceptObjection, refuseObjection } from '../../db/objections';
import { checkCorrections } from '../../db/objection-verification';
import { endSuspension, suspendPublication } from '../../db/objection-suspension';
import { decideObjectionUpdate, verifyObjectionUpdate } from '../../processes/messages';
import { runUpdate } from '../../processes/client';
import { objectionRefusals, orRefusal } from '../../processes/errors';
import { ensureObjectionWorkflow } from '../../processes/starts';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, jsonRequestExamples, registry } from '../openapi';
import {
  IdParam,
  Reason,
  ReasonBody,
  Uuid,
  by,
  guard,
  objectionViewer,
  one,
  stateConflict,
  tags,
  type ObjectionViewer,
} from './objection-common';

/**
 * Objections, the handling (E18, P22): staff accept or refuse, the provider verifies, staff decide the outcome,
 * staff suspend publication while it is open (E18 2nd para.). The applicant's side is in objections.ts. Each
 * endpoint: its schemas, its OpenAPI entry and its handler, in that order.
 */

interface Ctx {
  db: Db;
  temporal: AppDeps['temporal'];
  config: AppDeps['config'];
  view: ObjectionViewer;
}
type Route = (r: Router, ctx: Ctx) => void;

const body = express.json({ limit: '1mb' });

// ─── POST /objections/{id}/accept (staff): the 10 working days start ─────────────────────────────────────────

const OBJECTION_ID = '9c1f4e27-3a85-4d6b-b0e2-7f5a1c8d3e96';
const objectionNotFound = errorAnswer('异议不存在或无权查看 / no such objection, or not yours', notFound(`异议 ${OBJECTION_ID}`));
/** A step the objection's state does not allow (the message as the repository words it for that state). */
const inState = (state: ObjectionState, message: string, article?: string) =>
  stateConflict(new ObjectionStateError(state, message), article);
/** A refusal of the objection's workflow (processes/errors.ts, objectionRefusals). */
const refusedByProcess = (prefix: string, reason: string) =>
  new HttpError(409, 'OBJECTION_STATE_CONFLICT', `${prefix}：${reason}`, [{ field: '(request)', reason }]);

document({
  method: 'post',
  path: '/objections/{id}/accept',
  operationId: 'acceptObjection',
  tags,
  summary: '受理异议，开始 10 个工作日核实（工作人员）/ accept: the 10 working days start (staff)',
  secured: true,
  request: { params: IdParam },
  responses: {
    202: one,
    404: objectionNotFound,
    409: errorAnswer(
      '异议的状态不允许受理，或尚无证据 / not in a state to accept, or no evidence yet',
      inState('refused', `异议${OBJECTION_STATE_ZH.refused}，不能受理 / the objection is refused`, 'E18, P21'),
      inState(
        'submitted',
        '申请人尚未提供证据文件，不能受理；可不予受理并说明理由（E18）/ no evidence attached: refuse it with a reason instead',
        'E18, P21',
      ),
    ),
  },
});

const acceptRoute: Route = (r, { db, temporal, config, view }) =>
  r.post('/objections/:id/accept', requireRole('staff'), async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    await view(p, id, false);
    const { workflowId } = await guard(() => acceptObjection(db, id, by(p)), 'E18, P21');
    let workflow: 'started' | 'pending' = 'started';
    try {
      await ensureObjectionWorkflow(db, temporal, config.taskQueue, workflowId, id);
    } catch (e) {
      // Accepted and stored: the reconciler starts the verification when Temporal is back.
      workflow = 'pending';
      logger('api').warn({ err: errorField(e) }, `workflow start for objection ${id} deferred`);
    }
    res
      .status(202)
      .location(`/objections/${id}`)
      .json({ objection: await view(p, id, false), workflow });
  });

// ─── POST /objections/{id}/refuse (staff) ────────────────────────────────────────────────────────────────────

document({
  method: 'post',
  path: '/objections/{id}/refuse',
  operationId: 'refuseObjection',
  tags,
  summary: '不予受理并说明理由（工作人员）/ refuse with a reason (staff)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(ReasonBody, { reason: '所附材料与所涉记录无关，且未说明信息错在何处（E18）' }, { required: true }),
  },
  responses: {
    200: one,
    404: objectionNotFound,
    409: errorAnswer(
      '异议已受理或已处理 / accepted or concluded already',
      inState('accepted', `异议${OBJECTION_STATE_ZH.accepted}，不能不予受理 / the objection is accepted`),
    ),
  },
});

const refuseRoute: Route = (r, { db, view }) =>
  r.post('/objections/:id/refuse', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = ReasonBody.parse(req.body ?? {});
    await view(p, id, false);
    await guard(() => refuseObjection(db, id, reason, by(p)));
    res.json({ objection: await view(p, id, false) });
  });

// ─── POST /objections/{id}/verification: the provider's verification ─────────────────────────────────────────

const CorrectionSchema = z.discriminatedUnion('action', [
  z.object({ record_key: Uuid('记录编号'), action: z.literal('correct'), changes: RecordChanges }).strict(),
  z.object({ record_key: Uuid('记录编号'), action: z.literal('delete') }).strict(),
]);
const VerificationBody = registry.register(
  'ObjectionVerification',
  z.discriminatedUnion('verdict', [
    z
      .object({
        verdict: z.literal('confirmed_wrong'),
        reason: Reason,
        corrections: z
          .array(CorrectionSchema)
          .min(1, { message: '确有错误的，须提供更正内容或删除（P23）/ give the corrections or deletions' }),
      })
      .strict()
      .openapi({ description: '确有错误：更正内容或删除（E18、P23）/ wrong: the corrections or deletions' }),
    z
      .object({ verdict: z.literal('confirmed_right'), reason: Reason })
      .strict()
      .openapi({ description: '核实无误：说明理由 / right: with the reasons' }),
  ]),
);

document({
  method: 'post',
  path: '/objections/{id}/verification',
  operationId: 'verifyObjection',
  tags,
  summary: '信息提供单位答复核实：确有错误（更正或删除）或核实无误（理由）/ the provider verifies',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequestExamples(
      VerificationBody,
      {
        delete: {
          summary: '确有错误：删除记录 / wrong: delete the record',
          value: {
            verdict: 'confirmed_wrong',
            reason: '经核对原始卷宗，该处罚决定已被钦州市人民政府行政复议决定撤销',
            corrections: [{ record_key: EXAMPLE.recordKey, action: 'delete' }],
          },
        },
        correct: {
          summary: '确有错误：更正记录 / wrong: correct the record',
          value: {
            verdict: 'confirmed_wrong',
            reason: '经核对，警示已于 2026 年 10 月 28 日解除，原记录未载明',
            corrections: [{ record_key: EXAMPLE.recordKey, action: 'correct', changes: { lifted_date: '2026-10-28' } }],
          },
        },
        right: {
          summary: '核实无误 / right',
          value: { verdict: 'confirmed_right', reason: '经核对缴费系统及银行流水，2026 年 8 月至今的水费未缴，记录无误' },
        },
      },
      { required: true },
    ),
  },
  responses: {
    200: one,
    404: objectionNotFound,
    409: errorAnswer(
      '已答复，或异议不在核实中 / answered already, or not being verified',
      inState('answered', '信息提供单位已答复，不能重复答复 / the provider has answered already'),
      inState('corrected', `异议${OBJECTION_STATE_ZH.corrected}，不能答复核实 / the objection is corrected`),
    ),
    422: errorAnswer(
      '更正内容无效，未保存 / invalid correction, nothing stored',
      new HttpError(422, 'INVALID_CORRECTION', '更正内容无效，未保存 / the corrections are invalid; nothing stored', [
        { row: 1, field: 'corrections.0.changes.lifted_date', reason: '解除日早于事件日期 / lifted before the event date', article: 'E15' },
        {
          row: 2,
          field: 'corrections.1.record_key',
          reason: '该记录不在本异议所涉记录之中 / not a record of this objection',
        },
      ]),
    ),
  },
});

const verificationRoute: Route = (r, { db, temporal, view }) =>
  r.post('/objections/:id/verification', requireRole('provider'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = VerificationBody.parse(req.body);
    const o = await view(p, id, false);
    if (o.provider_verdict)
      throw stateConflict(new ObjectionStateError(o.state, '信息提供单位已答复，不能重复答复 / the provider has answered already'));
    if (o.state !== 'verifying' && o.state !== 'overdue')
      throw stateConflict(
        new ObjectionStateError(
          o.state,
          `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能答复核实 / the objection is ${o.state}`,
        ),
      );
    const corrections = b.verdict === 'confirmed_wrong' ? b.corrections : null;
    if (corrections) {
      const problems = await checkCorrections(db, id, p.providerId!, corrections);
      if (problems.length)
        throw new HttpError(422, 'INVALID_CORRECTION', '更正内容无效，未保存 / the corrections are invalid; nothing stored', problems);
    }
    const answer = { verdict: b.verdict, reason: b.reason, corrections, providerPrincipalId: p.id, providerActor: actorLabel(p) };
    await orRefusal(
      () => runUpdate(temporal, o.workflow_id as string, verifyObjectionUpdate, [answer]),
      objectionRefusals('不能答复 / cannot answer'),
    );
    res.json({ objection: await view(p, id) });
  });

// ─── POST /objections/{id}/outcome (staff): an Update, refused at once when it does not follow the verification ─

const OutcomeBody = registry.register(
  'ObjectionOutcome',
  z
    .object({
      outcome: z
        .string()
        .openapi({ description: 'corrected（更正）| upheld（维持）— 由流程校验，与核实结果不符的立即拒绝 / checked by the process' }),
      reason: z.string().max(2000),
    })
    .strict(),
);

document({
  method: 'post',
  path: '/objections/{id}/outcome',
  operationId: 'decideObjectionOutcome',
  tags,
  summary: '作出处理结论：更正或维持（工作人员；与核实结果不符的立即拒绝）/ signal the outcome (staff)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(OutcomeBody, { outcome: 'corrected', reason: '信息提供单位核实确有错误，已删除该行政处罚记录' }, { required: true }),
  },
  responses: {
    200: one,
    404: objectionNotFound,
    409: errorAnswer(
      '尚未受理，或结论与核实结果不符 / not accepted, or the outcome does not follow the verification',
      inState('submitted', `异议${OBJECTION_STATE_ZH.submitted}，尚未受理，不能作出结论 / not accepted`, 'E18, P22'),
      refusedByProcess(
        '不能作出结论 / outcome refused',
        '处理结论须与信息提供单位的核实结果一致（confirmed_wrong）/ the outcome must follow the verification',
      ),
    ),
  },
});

const outcomeRoute: Route = (r, { temporal, view }) =>
  r.post('/objections/:id/outcome', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = OutcomeBody.parse(req.body);
    const o = await view(p, id, false);
    if (!o.workflow_id)
      throw stateConflict(
        new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，尚未受理，不能作出结论 / not accepted`),
        'E18, P22',
      );
    const decision = { outcome: b.outcome as 'corrected' | 'upheld', reason: b.reason, staffPrincipalId: p.id, staffActor: actorLabel(p) };
    await orRefusal(
      () => runUpdate(temporal, o.workflow_id as string, decideObjectionUpdate, [decision]),
      objectionRefusals('不能作出结论 / outcome refused'),
    );
    res.json({ objection: await view(p, id) });
  });

// ─── POST /objections/{id}/suspension (staff): suspend publication while open (E18 2nd para.) ────────────────

const SuspendBody = z
  .object({ reason: Reason, on_request: z.boolean().default(false).openapi({ description: "依申请人申请 / at the applicant's request" }) })
  .strict();

document({
  method: 'post',
  path: '/objections/{id}/suspension',
  operationId: 'suspendObjectionPublication',
  tags,
  summary: '异议期间暂停公开（工作人员，E18 第二款）/ suspend publication while open (staff)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(
      SuspendBody,
      { reason: '申请人提交的行政复议决定书表明处罚已被撤销，异议期间暂停公开', on_request: true },
      { required: true },
    ),
  },
  responses: {
    200: one,
    404: objectionNotFound,
    409: errorAnswer(
      '已暂停，或不能暂停 / suspended already, or cannot be',
      inState('verifying', '已暂停公开 / publication is suspended already', 'E18'),
      inState('verifying', '申请人未申请暂停公开 / the applicant has not asked for a suspension', 'E18'),
    ),
  },
});

const suspendRoute: Route = (r, { db, view }) =>
  r.post('/objections/:id/suspension', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = SuspendBody.parse(req.body ?? {});
    await view(p, id, false);
    await guard(() => suspendPublication(db, id, { reason: b.reason, onRequest: b.on_request, by: by(p) }), 'E18');
    res.json({ objection: await view(p, id, false) });
  });

// ─── POST /objections/{id}/suspension/end (staff) ────────────────────────────────────────────────────────────

document({
  method: 'post',
  path: '/objections/{id}/suspension/end',
  operationId: 'endObjectionSuspension',
  tags,
  summary: '提前恢复公开（工作人员）/ end the suspension early (staff)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(ReasonBody, { reason: '经向复议机关核实，所附行政复议决定书并非真实文件，恢复公开' }, { required: true }),
  },
  responses: {
    200: one,
    404: objectionNotFound,
    409: errorAnswer('未暂停公开 / not suspended', inState('verifying', '未暂停公开 / publication is not suspended', 'E18')),
  },
});

const endSuspensionRoute: Route = (r, { db, view }) =>
  r.post('/objections/:id/suspension/end', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = ReasonBody.parse(req.body ?? {});
    await view(p, id, false);
    await guard(() => endSuspension(db, id, reason, by(p)), 'E18');
    res.json({ objection: await view(p, id, false) });
  });

// ─── The router ──────────────────────────────────────────────────────────────────────────────────────────────

export function objectionHandlingRouter({ db, temporal, config }: AppDeps): Router {
  const r = Router();
  const ctx: Ctx = { db, temporal, config, view: objectionViewer({ db, temporal }) };
  for (const route of [acceptRoute, refuseRoute, verificationRoute, outcomeRoute, suspendRoute, endSuspensionRoute]) route(r, ctx);
  return r;
}
