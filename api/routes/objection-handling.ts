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
import { HttpError } from '../errors';
import { document, registry, ErrorBody } from '../openapi';
import {
  IdParam,
  Reason,
  ReasonBody,
  Uuid,
  by,
  conflict,
  guard,
  json,
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

document({
  method: 'post',
  path: '/objections/{id}/accept',
  tags,
  summary: '受理异议，开始 10 个工作日核实（工作人员）/ accept: the 10 working days start (staff)',
  secured: true,
  request: { params: IdParam },
  responses: { 202: one, ...conflict },
});

const acceptRoute: Route = (r, { db, temporal, config, view }) =>
  r.post('/objections/:id/accept', requireRole('staff'), async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    await view(p, id, false);
    const { workflowId } = await guard(() => acceptObjection(db, id, by(p)), 'E18, P21');
    let workflow: 'started' | 'pending' = 'started';
    try {
      await ensureObjectionWorkflow(temporal, config.taskQueue, workflowId, id);
    } catch (e) {
      // Accepted and stored: the reconciler starts the verification when Temporal is back.
      workflow = 'pending';
      console.error(`[api] workflow start for objection ${id} deferred:`, (e as Error).message);
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
  tags,
  summary: '不予受理并说明理由（工作人员）/ refuse with a reason (staff)',
  secured: true,
  request: { params: IdParam, body: json(ReasonBody) },
  responses: { 200: one, ...conflict },
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
  tags,
  summary: '信息提供单位答复核实：确有错误（更正或删除）或核实无误（理由）/ the provider verifies',
  secured: true,
  request: { params: IdParam, body: json(VerificationBody) },
  responses: { 200: one, 422: { description: '更正内容无效 / invalid correction', ...json(ErrorBody) }, ...conflict },
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
  tags,
  summary: '作出处理结论：更正或维持（工作人员；与核实结果不符的立即拒绝）/ signal the outcome (staff)',
  secured: true,
  request: { params: IdParam, body: json(OutcomeBody) },
  responses: { 200: one, ...conflict },
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
  tags,
  summary: '异议期间暂停公开（工作人员，E18 第二款）/ suspend publication while open (staff)',
  secured: true,
  request: { params: IdParam, body: json(SuspendBody) },
  responses: { 200: one, ...conflict },
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
  tags,
  summary: '提前恢复公开（工作人员）/ end the suspension early (staff)',
  secured: true,
  request: { params: IdParam, body: json(ReasonBody) },
  responses: { 200: one, ...conflict },
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
