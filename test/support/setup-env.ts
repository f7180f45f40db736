import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';

process.env.TZ = 'Asia/Shanghai';
// Each test file signs its checkpoints into a log of its own (db/seal.ts): its database's chain, no other.
process.env.CHECKPOINT_LOG = path.join(
  process.env.QZ_TEST_SEAL_DIR ?? os.tmpdir(),
  `checkpoints-${crypto.randomBytes(6).toString('hex')}.jsonl`,
);
// Keep the SDK quiet in test output: warnings and errors only.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}
