import type { Knex } from 'knex';

/**
 * The audit chain's chainer (migration 0025): writers store their entries unchained; the database function
 * `qz_audit_chain` chains the committed ones in order. Each API and worker process runs it every second.
 */

/**
 * Chains the entries committed and not yet chained, `max` to a statement, until none is left; answers how many. Safe
 * from any number of processes at once: they line up on the chain head, one short statement each.
 */
export async function chainAudit(db: Knex, max = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = (await db.raw('SELECT qz_audit_chain(?) AS n', [max])) as { rows: { n: number }[] };
    total += rows[0].n;
    if (rows[0].n < max) return total;
  }
}

/**
 * Runs the chainer every `intervalMs` (AUDIT_CHAIN_INTERVAL_MS) in this process; answers the function that stops it
 * and waits for a round in progress. A round that fails (the database away) is told once and tried again.
 */
export function startAuditChainer(db: Knex, log: (line: string) => void, intervalMs: number): () => Promise<void> {
  let running: Promise<void> | null = null;
  let failing = false;
  const tick = () => {
    if (running) return;
    running = chainAudit(db)
      .then(() => {
        if (failing) log('审计链接续恢复 / audit entries are being chained again');
        failing = false;
      })
      .catch((e: unknown) => {
        if (!failing) log(`审计记录暂未链接 / audit entries not chained yet: ${(e as Error).message}`);
        failing = true;
      })
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
