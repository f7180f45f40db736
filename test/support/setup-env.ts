import { DefaultLogger, Runtime } from '@temporalio/worker';

process.env.TZ = 'Asia/Shanghai';
// Keep the SDK quiet in test output: warnings and errors only.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}
