/**
 * A jest reporter that makes sure the test run ends. When every test file has run, the process should exit at once;
 * if something a test started is still open `graceMs` later (a Temporal worker polling, a server, a timer), it names
 * what stayed open — the process's active resources and its child processes — and exits with failure, instead of
 * keeping CI waiting until its own limit.
 */
const { execFileSync } = require('node:child_process');

function childProcesses() {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.includes(' ps -o '))
      .map((l) => l.slice(0, 160));
  } catch {
    return [];
  }
}

class ExitReporter {
  constructor(_globalConfig, options = {}) {
    this.graceMs = Number(process.env.JEST_EXIT_GRACE_MS) || options.graceMs || 30000;
  }

  onRunComplete() {
    const timer = setTimeout(() => {
      const counts = {};
      for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
      const open =
        Object.entries(counts)
          .map(([k, n]) => `${k}×${n}`)
          .join(', ') || 'none';
      const children = childProcesses();
      process.stderr.write(
        `\n[jest] every test file has run, but the process did not exit within ${this.graceMs / 1000} s.\n` +
          `[jest] still open: ${open}\n` +
          (children.length ? `[jest] child processes:\n${children.map((c) => `  ${c}`).join('\n')}\n` : '') +
          '[jest] a test left something running (a Temporal worker or environment not torn down?); exiting with failure.\n',
      );
      process.exit(1);
    }, this.graceMs);
    timer.unref();
  }
}

module.exports = ExitReporter;
