import { condition, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  publicationChangedSignal,
  publishNowSignal,
  submissionStateQuery,
  type SubmissionInput,
  type SubmissionState,
} from '../processes/messages';

const { recordReceipt, tellObligationOfBatch, planPublication, alertHeldRecords } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // A missing calendar year keeps this retrying (hourly at most) until an admin loads it.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

const { publishBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const untilMs = (iso: string) => Math.max(0, Date.parse(iso) - Date.now());
const nowIso = () => new Date(Date.now()).toISOString();

/**
 * One workflow per accepted batch (never per record). It records the receipt and the publication deadline
 * (E12: 5 working days), then publishes the batch's public records: staff may review the batch and hold
 * records; what is not held is published at the end of the review window (or when staff say they are done),
 * always before the deadline. Records still held on the 4th working day raise an alert to staff, and again
 * once the deadline has passed; each is published when released. Per-record facts live in PostgreSQL.
 */
export async function submissionWorkflow(input: SubmissionInput): Promise<SubmissionState> {
  const state: SubmissionState = { submissionId: input.submissionId, stage: 'receiving', alerted: [] };
  let publishNow = false;
  let changes = 0;
  setHandler(submissionStateQuery, () => state);
  setHandler(publishNowSignal, () => {
    publishNow = true;
  });
  setHandler(publicationChangedSignal, () => {
    changes++;
  });

  state.receipt = await recordReceipt(input.submissionId);
  state.stage = 'received';
  // The batch fulfils its provider's obligation for the period (E7, P9): tell it (batches accepted before this step
  // existed were told by the API, and the daily opener tells any obligation that missed it).
  if (patched('tell-obligation')) await tellObligationOfBatch(input.submissionId);
  const plan = await planPublication(input.submissionId);
  state.plan = plan;
  if (plan.records === 0) {
    state.stage = 'published';
    return state;
  }

  state.stage = 'in_review';
  await condition(() => publishNow, untilMs(plan.publishAt));
  let seen = changes;
  state.publication = await publishBatch({ submissionId: input.submissionId, asOf: nowIso() });

  // Held records: published when released (a signal, or read from the database at each alert time).
  while (state.publication.held > 0 || state.publication.pending > 0) {
    state.stage = 'awaiting_held';
    const next = (['deadline_near', 'deadline_passed'] as const).find((s) => !state.alerted.includes(s));
    const alertAt = next === undefined ? undefined : next === 'deadline_near' ? plan.alertAt : plan.deadlineAt;
    let timeout = alertAt === undefined ? undefined : untilMs(alertAt);
    // Rows released while the last publication ran: look again soon even without a signal.
    if (state.publication.pending > 0) timeout = Math.min(timeout ?? 60_000, 60_000);
    const changed =
      timeout === undefined ? await condition(() => changes !== seen).then(() => true) : await condition(() => changes !== seen, timeout);
    seen = changes;
    state.publication = await publishBatch({ submissionId: input.submissionId, asOf: nowIso() });
    if (!changed && next !== undefined && alertAt !== undefined && Date.now() >= Date.parse(alertAt)) {
      state.alerted.push(next);
      if (state.publication.held > 0) await alertHeldRecords({ submissionId: input.submissionId, stage: next });
    }
  }
  state.stage = 'published';
  return state;
}
