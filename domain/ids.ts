import crypto from 'node:crypto';

/**
 * Workflow ids are business keys: the same submission always maps to the same workflow, so a retried start is a
 * no-op. The Idempotency-Key is hashed so that a client's key text never ends up in Temporal.
 */
export function submissionWorkflowId(providerCode: string, idempotencyKey: string): string {
  const h = crypto.createHash('sha256').update(`${providerCode}\u0000${idempotencyKey}`).digest('hex').slice(0, 32);
  return `submission-${providerCode}-${h}`;
}
