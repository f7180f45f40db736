import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { Logger as Pino } from 'pino';
import { logger } from '../ops/log';

/** The Temporal SDK's logs (its own and, forwarded, its native core's) as the platform's: pino, component `temporal`. */
const SEVERITY: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

export class TemporalPinoLogger implements Logger {
  /** `level`: the least severe line passed on (the SDK's own lines below it are dropped, as its default logger does). */
  constructor(
    private readonly level: LogLevel = 'INFO',
    private readonly out: Pino = logger('temporal'),
  ) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if ((SEVERITY[level] ?? 2) < SEVERITY[this.level]) return;
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level] ?? 'info';
    this.out[method](meta ?? {}, message);
  }
  trace = (message: string, meta?: LogMetadata) => this.log('TRACE', message, meta);
  debug = (message: string, meta?: LogMetadata) => this.log('DEBUG', message, meta);
  info = (message: string, meta?: LogMetadata) => this.log('INFO', message, meta);
  warn = (message: string, meta?: LogMetadata) => this.log('WARN', message, meta);
  error = (message: string, meta?: LogMetadata) => this.log('ERROR', message, meta);
}

/**
 * Installs the Temporal runtime of this process: its logs through pino (`level`: what the SDK and its core pass on),
 * and, when `sdkMetrics` names an address, the SDK's own worker metrics (task latencies, slots, polls…) served there in
 * the Prometheus format. Signals are the platform's: the SDK must not shut the worker down on its own.
 */
export function installTemporalRuntime(level: LogLevel, sdkMetrics?: { host: string; port: number }): void {
  Runtime.install({
    logger: new TemporalPinoLogger(level),
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: level, other: level }, forward: {} },
      ...(sdkMetrics && sdkMetrics.port > 0 ? { metrics: { prometheus: { bindAddress: `${sdkMetrics.host}:${sdkMetrics.port}` } } } : {}),
    },
  });
}
