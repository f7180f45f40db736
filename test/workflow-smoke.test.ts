import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingEnv, uniqueTaskQueue } from './support/temporal';
import { submissionWorkflow } from '../workflows';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120000);
afterAll(async () => {
  await env?.teardown();
});

test('the submission workflow records the receipt (activities stubbed: the process alone)', async () => {
  const taskQueue = uniqueTaskQueue();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: {
      recordReceipt: async (id: string) => ({
        submissionId: id,
        receivedAt: 'x',
        receiptDate: '2026-09-29',
        publicationDeadline: '2026-10-12',
      }),
      // The batch's obligation (none open in this test): nothing to tell.
      tellObligationOfBatch: async () => ({ told: false }),
      // A batch without public records: nothing to publish, the workflow ends after the receipt.
      planPublication: async (id: string) => ({
        submissionId: id,
        records: 0,
        receiptDate: '2026-09-29',
        publishAt: '',
        alertAt: '',
        deadlineAt: '',
        deadline: '2026-10-12',
      }),
    },
  });
  const r = await worker.runUntil(
    env.client.workflow.execute(submissionWorkflow, { taskQueue, workflowId: 'w1', args: [{ submissionId: 's1' }] }),
  );
  expect(r.receipt?.publicationDeadline).toBe('2026-10-12');
});
