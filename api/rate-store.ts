import { logger } from '../ops/log';
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import type { Db } from '../db/knex';

/** Exchanges without a new request before a process stops exchanging (until its next request). */
const IDLE_EXCHANGES = 3;

/**
 * The public endpoints' request counts per client and minute, shared by every API process through PostgreSQL
 * (table public_rate_hits, migration 0012), so that a client's limit holds however many processes serve it.
 *
 * A request never waits for the database: it is counted in memory and judged on this process's count plus what
 * the other processes had counted at the last exchange. Every `syncMs` each process adds its new counts to the
 * shared rows and reads the totals back, in one statement. So the limit is exact within a process and lags by at
 * most `syncMs` across processes. If the database cannot be reached, the process goes on with what it knows.
 */
export class SharedRateStore implements Store {
  readonly localKeys = false;
  readonly prefix = 'public';
  private windowMs = 60_000;
  private windowStart = 0;
  /** This window's clients: this process's hits, how many of them the database has, the other processes' hits. */
  private clients = new Map<string, { hits: number; synced: number; others: number }>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private lastCleanup = 0;
  private failing = false;
  private idle = 0;

  constructor(
    private readonly db: Db,
    private readonly syncMs: number,
    private readonly log: (m: string) => void = (m) => logger('api').warn(m),
  ) {}

  /** Unsynced hits of one client after which a request waits for an exchange (a tenth of the limit, at least 1). */
  private slice = Infinity;

  init(options: Options): void {
    this.windowMs = options.windowMs;
    if (typeof options.limit === 'number') this.slice = Math.max(1, Math.floor(options.limit / 10));
  }

  private roll(now: number): void {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.clients.clear();
    }
  }

  private info(key: string): ClientRateLimitInfo {
    const c = this.clients.get(key);
    return { totalHits: c ? c.hits + c.others : 0, resetTime: new Date(this.windowStart + this.windowMs) };
  }

  get(key: string): ClientRateLimitInfo | undefined {
    this.roll(Date.now());
    return this.clients.has(key) ? this.info(key) : undefined;
  }

  async increment(key: string): Promise<IncrementResponse> {
    this.roll(Date.now());
    const c = this.clients.get(key) ?? { hits: 0, synced: 0, others: 0 };
    c.hits++;
    this.clients.set(key, c);
    // Exchange counts only while there are any (an idle process touches nothing).
    this.timer ??= setInterval(() => void this.sync(), this.syncMs).unref();
    // A client this busy on this process waits for an exchange every tenth of the limit: what the other processes
    // admit meanwhile is bounded by that slice each, not by the whole limit.
    if (c.hits - c.synced >= this.slice) await this.sync();
    return this.info(key);
  }

  decrement(key: string): void {
    const c = this.clients.get(key);
    if (c && c.hits > 0) c.hits--;
  }

  resetKey(key: string): void {
    this.clients.delete(key);
  }

  /** Adds this process's new hits to the shared counts and reads the totals back (one at a time). */
  sync(): Promise<void> {
    this.syncing ??= this.exchange().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async exchange(): Promise<void> {
    this.roll(Date.now());
    // The process's pool was closed (it is stopping): nothing to exchange with any more.
    const closed = !(this.db.client as { pool?: unknown }).pool;
    if (!this.clients.size || closed) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const windowStart = this.windowStart;
    const keys = [...this.clients.keys()];
    const deltas = keys.map((k) => {
      const c = this.clients.get(k)!;
      return c.hits - c.synced;
    });
    // Quiet for a few exchanges: stop until the next request (which restarts the exchanges).
    this.idle = deltas.some((d) => d !== 0) ? 0 : this.idle + 1;
    if (this.idle > IDLE_EXCHANGES) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.idle = 0;
      return;
    }
    try {
      const { rows } = (await this.db.raw(
        `INSERT INTO public_rate_hits (client, window_start, hits)
         SELECT k, to_timestamp(?::double precision / 1000), d FROM unnest(?::text[], ?::int[]) AS t(k, d)
         ON CONFLICT (client, window_start) DO UPDATE SET hits = public_rate_hits.hits + EXCLUDED.hits
         RETURNING client, hits`,
        [windowStart, keys, deltas],
      )) as { rows: Array<{ client: string; hits: number }> };
      if (this.windowStart === windowStart) {
        for (const r of rows) {
          const i = keys.indexOf(r.client);
          const c = this.clients.get(r.client);
          if (i < 0 || !c) continue;
          c.synced += deltas[i];
          c.others = Math.max(0, r.hits - c.synced);
        }
      }
      if (this.failing) this.log('[api] shared rate counts reachable again');
      this.failing = false;
      if (Date.now() - this.lastCleanup > this.windowMs) {
        this.lastCleanup = Date.now();
        await this.db.raw(`DELETE FROM public_rate_hits WHERE window_start < to_timestamp(?::double precision / 1000)`, [
          windowStart - this.windowMs,
        ]);
      }
    } catch (e) {
      if (!this.failing) this.log(`[api] shared rate counts unreachable, counting in this process only: ${(e as Error).message}`);
      this.failing = true;
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sync();
  }
}
