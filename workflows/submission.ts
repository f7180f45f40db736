import { defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities, ReceiptResult } from '../activities';

const { recordReceipt } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // A missing calendar year keeps this retrying (hourly at most) until an admin loads it.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

export interface SubmissionInput {
  submissionId: string;
}

export interface SubmissionState {
  submissionId: string;
  stage: 'receiving' | 'received';
  receipt?: ReceiptResult;
}

export const submissionStateQuery = defineQuery<SubmissionState>('state');

/**
 * One workflow per accepted batch (never per record). It records the receipt and the publication deadline
 * (E12: 5 working days); publication itself is added by the publication work.
 */
export async function submissionWorkflow(input: SubmissionInput): Promise<SubmissionState> {
  const state: SubmissionState = { submissionId: input.submissionId, stage: 'receiving' };
  setHandler(submissionStateQuery, () => state);
  state.receipt = await recordReceipt(input.submissionId);
  state.stage = 'received';
  return state;
}
