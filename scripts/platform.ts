/**
 * What every entry point shares (scripts/start.ts, scripts/migrate.ts, scripts/create-key.ts, scripts/service.ts,
 * api/main.ts, worker/main.ts): errors written for the terminal, the log, settings, and an ordered shutdown. The
 * parts they start live beside it: scripts/postgres.ts (PostgreSQL, schema and seed), scripts/temporal-dev.ts
 * (the Temporal CLI dev server and waiting for Temporal), scripts/http.ts (listening), scripts/processes.ts
 * (processes left behind, busy ports), scripts/database-command.ts (one-shot commands on the database).
 *
 * Secrets never reach the log: database URLs are printed through `redactUrl`.
 */
import { logger } from '../ops/log';
import { loadConfig, type Config } from '../domain/config';

/** A failure whose message is written for the person at the terminal; no stack trace is needed. */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type Log = (message: string) => void;

export const log: Log = (m) => logger('platform').info(m);
export const logError: Log = (m) => logger('platform').error(m);

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const base = e.message || e.name;
    const cause = (e as { cause?: unknown }).cause;
    return cause !== undefined && cause !== e ? `${base} (${describeError(cause)})` : base;
  }
  if (e === undefined || e === null) return 'unknown error';
  return String(e);
}

/** The URL without its password (also `?password=`), for printing. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return '<DATABASE_URL (not a valid URL)>';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** loadConfig, with a bad setting reported as a usage error (exit 2) rather than a crash. */
export function loadSettings(): Config {
  try {
    return loadConfig();
  } catch (e) {
    throw new PlatformError(describeError(e), 2);
  }
}

// ─── Ordered shutdown ────────────────────────────────────────────────────────────────────────────────────────

/**
 * What has been started, stopped in reverse order (the last started is the first stopped). Each step has a
 * deadline so that a stuck part cannot keep the process alive; a failing step does not prevent the others.
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; stop: () => Promise<void>; timeoutMs: number }> = [];
  private running: Promise<boolean> | undefined;

  add(name: string, stop: () => Promise<void>, timeoutMs = 30_000): void {
    this.steps.push({ name, stop, timeoutMs });
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs once; later calls wait for the first. Resolves to true when every step stopped cleanly. */
  run(logFn: Log = log): Promise<boolean> {
    this.running ??= (async () => {
      let clean = true;
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        logFn(`stopping ${step.name}`);
        try {
          await withTimeout(step.stop(), step.timeoutMs, `stopping ${step.name}`);
        } catch (e) {
          clean = false;
          logError(`stopping ${step.name} failed: ${describeError(e)}`);
        }
      }
      return clean;
    })();
    return this.running;
  }
}

/** Calls `onSignal` on the first SIGINT / SIGTERM / SIGHUP; later ones are reported, not acted on. */
export function onTerminationSignal(onSignal: (signal: NodeJS.Signals) => void): void {
  let received: NodeJS.Signals | undefined;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (received) {
        log(`${sig} received: already stopping (each part has a deadline), please wait`);
        return;
      }
      received = sig;
      onSignal(sig);
    });
  }
}
