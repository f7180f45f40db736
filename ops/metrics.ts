import http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The platform's metrics, in the Prometheus text format (prom-client), one registry per process: served at
 * `GET /metrics` on a port of its own (METRICS_PORT, WORKER_METRICS_PORT; `serveMetrics`), never on the API's port.
 * The process's own (CPU, memory, event-loop lag, GC) come with every registry. What the database knows (obligations,
 * cases, objections, batches awaiting publication, publication lag) is read when scraped (api/metrics.ts).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'qz_' });

export const httpDuration = new Histogram({
  name: 'qz_http_request_duration_seconds',
  help: 'HTTP 请求耗时 / duration of HTTP requests, by route (the pattern, never the values in it) and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
  registers: [registry],
});

export const intakeRows = new Counter({
  name: 'qz_intake_rows_total',
  help: '报送的记录行数 / rows sent in batches, by provider and outcome (accepted, refused)',
  labelNames: ['provider', 'outcome'] as const,
  registers: [registry],
});

export const intakeRefusals = new Counter({
  name: 'qz_intake_refusals_total',
  help: '被拒绝的批次 / batches refused, by provider and reason',
  labelNames: ['provider', 'reason'] as const,
  registers: [registry],
});

export const sweepRows = new Counter({
  name: 'qz_sweep_rows_total',
  help: '定时清理处理的记录 / rows the daily sweeps changed, by sweep (publication, retention) and kind',
  labelNames: ['sweep', 'kind'] as const,
  registers: [registry],
});

export const sweepRuns = new Counter({
  name: 'qz_sweep_runs_total',
  help: '定时清理的运行次数 / sweep runs, by sweep',
  labelNames: ['sweep'] as const,
  registers: [registry],
});

/** Serves `GET /metrics` of `reg` on host:port; answers the server (closed by the caller at shutdown). */
export function serveMetrics(reg: Registry, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('未找到 / not found: GET /metrics\n');
      return;
    }
    reg.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': reg.contentType }).end(text),
      (e: unknown) =>
        res
          .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end(`指标暂不可用 / metrics unavailable: ${(e as Error).message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
