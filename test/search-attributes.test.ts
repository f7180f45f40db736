/**
 * Temporal search attributes (processes/search-attributes.ts): registered in a namespace that lacks them, then set on
 * the processes the platform starts, so the Web UI and `temporal workflow list --query` find a provider's, a record's
 * or an enterprise's processes. A real Temporal dev server (the time-skipping test server cannot list them: there the
 * platform leaves them off, which every other test runs with).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Connection } from '@temporalio/client';
import { startObjectionProcess, startSubmissionProcess } from '../processes/client';
import { enableSearchAttributes, registerSearchAttributes, SEARCH_ATTRIBUTES, searchAttributesOf } from '../processes/search-attributes';
import { devServerEnv, timeSkippingEnv, uniqueTaskQueue } from './support/temporal';
import { waitFor } from './support/wait';
import { uscc } from './support/fixtures';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnv();
}, 120000);
afterAll(async () => {
  await env?.teardown();
});

test('off until the namespace has them all; a server that cannot list them leaves them off', async () => {
  expect(searchAttributesOf({ provider: 'QZ-GSJ' })).toBeUndefined();
  expect(await enableSearchAttributes(env.client)).toBe(false);
  const skipping = await timeSkippingEnv();
  try {
    expect(await enableSearchAttributes(skipping.client)).toBe(false);
  } finally {
    await skipping.teardown();
  }
}, 120000);

test('registered once (repeating adds nothing), then set at start: the processes of a provider, a record, an enterprise are found', async () => {
  const connection = env.connection as Connection;
  const namespace = env.client.options.namespace;
  expect((await registerSearchAttributes(connection, namespace)).sort()).toEqual(
    Object.values(SEARCH_ATTRIBUTES)
      .map((k) => k.name)
      .sort(),
  );
  expect(await registerSearchAttributes(connection, namespace)).toEqual([]);
  expect(await enableSearchAttributes(env.client)).toBe(true);

  const p = { temporal: env.client, taskQueue: uniqueTaskQueue('sa') };
  const record = '0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b';
  const enterprise = uscc(31);
  await startSubmissionProcess(p, 'sa-submission-1', 'sub-1', { provider: 'QZ-GSJ', period: '2026-10' });
  await startObjectionProcess(p, 'sa-objection-1', 'obj-1', {
    provider: 'QZ-GSJ',
    subject: enterprise,
    objectionId: 'obj-1',
    recordKeys: [record],
  });
  const described = await env.client.workflow.getHandle('sa-objection-1').describe();
  expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.subject)).toBe(enterprise);
  expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.recordKeys)).toEqual([record]);

  const found = async (query: string) => {
    const ids: string[] = [];
    for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids.sort();
  };
  expect(await waitFor(async () => ((await found(`QzProvider = 'QZ-GSJ'`)).length === 2 ? true : null))).toBe(true);
  expect(await found(`QzProvider = 'QZ-GSJ' AND QzPeriod = '2026-10'`)).toEqual(['sa-submission-1']);
  expect(await found(`QzRecordKeys = '${record}'`)).toEqual(['sa-objection-1']);
  expect(await found(`QzSubject = '${enterprise}'`)).toEqual(['sa-objection-1']);
  expect(await found(`QzProvider = 'QZ-CUSTOMS'`)).toEqual([]);
  for (const id of ['sa-submission-1', 'sa-objection-1']) await env.client.workflow.getHandle(id).terminate('test over');
}, 120000);
