import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingEnv, uniqueTaskQueue } from './support/temporal';
import { submissionWorkflow } from '../workflows';

let env: TestWorkflowEnvironment;
beforeAll(async () => { env = await timeSkippingEnv(); }, 120000);
afterAll(async () => { await env?.teardown(); });

test('submission workflow with stubbed activity', async () => {
  const taskQueue = uniqueTaskQueue();
  const worker = await Worker.create({
    connection: env.nativeConnection, taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: { recordReceipt: async (id: string) => ({ submissionId: id, receivedAt: 'x', receiptDate: '2026-09-29', publicationDeadline: '2026-10-12' }) },
  });
  const r = await worker.runUntil(env.client.workflow.execute(submissionWorkflow, { taskQueue, workflowId: 'w1', args: [{ submissionId: 's1' }] }));
  expect(r.receipt?.publicationDeadline).toBe('2026-10-12');
});
