import { DefaultLogger, Runtime } from '@temporalio/worker';

process.env.TZ = 'Asia/Shanghai';
// The platform's own logs (ops/log.ts): errors only in test output, unless asked (LOG_LEVEL=info npm test).
process.env.LOG_LEVEL ??= 'error';
// Keep the SDK quiet in test output: warnings and errors only.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}
