/**
 * `npm run verify:audit`: walks the audit log's hash chain (E23, P26) and names the first broken entry.
 * Against DATABASE_URL, or the embedded PostgreSQL (the running one when the platform is up).
 * Exit 0: the chain is intact; 1: it is broken (the entry is printed); 2: the check could not run.
 */
import { verifyAuditChain } from '../db/audit';
import { runDatabaseCommand } from './database-command';

const say = (m: string) => console.log(`[verify-audit] ${m}`);

// A check: the database is not migrated first; any failure to run it exits 2.
runDatabaseCommand(
  'verify-audit',
  say,
  async ({ db }) => {
    const started = Date.now();
    const report = await verifyAuditChain(db, { onProgress: (n) => n % 100_000 === 0 && n > 0 && say(`${n} entries checked …`) });
    const secs = ((Date.now() - started) / 1000).toFixed(2);
    if (report.ok) {
      say(
        `审计日志哈希链完整 / the audit chain is intact: ${report.checked} entries, head #${report.head.seq} ${report.head.hash} (${secs} s)`,
      );
      return 0;
    }
    const b = report.firstBroken!;
    say(`审计日志哈希链已断裂 / the audit chain is BROKEN after ${report.checked} good entries`);
    say(`  first broken entry: ${b.id === null ? '(none: entries missing at the end)' : `id ${b.id}`}, seq ${b.seq}`);
    say(`  reason: ${b.reason}`);
    return 1;
  },
  { migrate: false, failureCode: 2 },
);
