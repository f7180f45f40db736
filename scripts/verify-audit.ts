/**
 * `npm run verify:audit`: walks the audit log's hash chain (E23, P26) and names the first broken entry, then checks the
 * records against their hashes and the chain's commitments (db/record-chain.ts) and names the first that does not match.
 * Against DATABASE_URL, or the embedded PostgreSQL (the running one when the platform is up).
 * Exit 0: the chain is intact; 1: it is broken (the entry is printed); 2: the check could not run.
 */
import { verifyAuditChain } from '../db/audit';
import { verifyRecords } from '../db/record-chain';
import { checkpointLogOf, sealKeyring, verifyCheckpoints } from '../db/seal';
import { runDatabaseCommand } from './database-command';
import { commandLine } from './cli';

const USAGE = `用法 / usage: npm run verify:audit

  校验审计日志哈希链（E23、P26）、信用记录与其哈希及审计链的对应、签名检查点（CHECKPOINT_LOG）；不改动数据库。
  Checks the audit log's hash chain (E23, P26), the records against their hashes and the chain, and the signed
  checkpoints (CHECKPOINT_LOG); changes nothing.
  数据库 / database: DATABASE_URL, or the embedded PostgreSQL (the running one when the platform is up).
  退出码 / exit: 0 完整 / intact; 1 已断裂或被改动（打印首个问题）/ broken or altered (the first is printed); 2 无法校验 / the check could not run.

  -h, --help   显示本说明 / show this help`;

commandLine('verify-audit', USAGE);

const say = (m: string) => console.log(`[verify-audit] ${m}`);

// A check: the database is not migrated first; any failure to run it exits 2.
runDatabaseCommand(
  'verify-audit',
  say,
  async ({ db }) => {
    const started = Date.now();
    const report = await verifyAuditChain(db, { onProgress: (n) => n % 100_000 === 0 && n > 0 && say(`${n} entries checked …`) });
    const secs = () => ((Date.now() - started) / 1000).toFixed(2);
    if (report.ok)
      say(
        `审计日志哈希链完整 / the audit chain is intact: ${report.checked} entries, head #${report.head.seq} ${report.head.hash} (${secs()} s)`,
      );
    else {
      const b = report.firstBroken!;
      say(`审计日志哈希链已断裂 / the audit chain is BROKEN after ${report.checked} good entries`);
      say(`  first broken entry: ${b.id === null ? '(none: entries missing at the end)' : `id ${b.id}`}, seq ${b.seq}`);
      say(`  reason: ${b.reason}`);
    }
    const records = await verifyRecords(db, { onProgress: (n) => n % 100_000 === 0 && n > 0 && say(`${n} record versions checked …`) });
    if (records.ok)
      say(
        `信用记录与其哈希及审计链相符 / the records match their hashes and the chain: ${records.checked} versions (${records.erased} erased under P19) (${secs()} s)`,
      );
    else {
      const b = records.firstBroken!;
      say(`信用记录被改动 / the records were ALTERED (${records.checked} good versions before)`);
      if (b.record_key)
        say(`  record ${b.record_key}${b.version === null ? '' : ` version ${b.version}`}${b.id === null ? '' : ` (id ${b.id})`}`);
      if (b.batch) say(`  batch ${b.batch}`);
      say(`  reason: ${b.reason}`);
    }
    const checkpointLog = checkpointLogOf(db);
    const checkpoints = await verifyCheckpoints(db, sealKeyring(), checkpointLog);
    if (checkpoints.ok)
      say(
        checkpoints.checked
          ? `审计链与 ${checkpoints.checked} 个签名检查点相符 / the chain matches ${checkpoints.checked} signed checkpoints (${checkpointLog}; latest #${checkpoints.latest!.seq}, ${checkpoints.latest!.signed_at})`
          : `尚无签名检查点 / no signed checkpoint yet in ${checkpointLog}`,
      );
    else {
      const b = checkpoints.firstBroken!;
      say(`审计链与签名检查点不符 / the chain does NOT match the signed checkpoints (${checkpointLog})`);
      say(`  line ${b.line}${b.seq === null ? '' : `, checkpoint of seq ${b.seq}`}: ${b.reason}`);
    }
    return report.ok && records.ok && checkpoints.ok ? 0 : 1;
  },
  { migrate: false, failureCode: 2 },
);
