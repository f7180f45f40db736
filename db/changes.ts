import pg from 'pg';
import type { Db } from './knex';
import { changeFeedSettings } from '../domain/config';

/**
 * Changes of the tables that API processes cache (api_keys, principals, providers, calendar_years, calendar_days),
 * heard from PostgreSQL: triggers send `NOTIFY qz_cache, '<table>'` when a transaction that changed one commits
 * (migration 0007), and every process that listens drops what it cached from that table. So a key revoked through
 * one API process, or a calendar year loaded by an admin, is in force in every process at once.
 *
 * A cache may only be used while its process is listening (`live`): from the moment LISTEN is in place until the
 * connection fails. A lost connection drops every cache (changes may have been missed) and is retried; meanwhile
 * the callers read the database on every use, as they would without a feed.
 *
 * A connection can also stall without failing (a network path that drops packets, a proxy that stops forwarding):
 * so every `heartbeatMs` the feed sends a notice of its own on the channel through the listening connection and must
 * hear it back within `heartbeatTimeoutMs`; if not, the connection counts as lost (caches off) and is replaced.
 * TCP keepalive is on as well.
 */
export const CHANGE_CHANNEL = 'qz_cache';
/** Heartbeat notices start with this (no table is named so); every listener ignores the others' heartbeats. */
const HEARTBEAT_PREFIX = '~heartbeat:';

export interface ChangeFeedOptions {
  /** CHANGE_FEED_HEARTBEAT_MS (5000): how often the listening connection is checked. */
  heartbeatMs?: number;
  /** CHANGE_FEED_HEARTBEAT_TIMEOUT_MS (3000): how long a heartbeat may take to come back before the feed is lost. */
  heartbeatTimeoutMs?: number;
}

export class ChangeFeed {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** Bumped on every change heard and every loss of the connection: a cache entry made before a bump is stale. */
  private epochs = new Map<string, number>();
  private allEpoch = 0;
  live = false;
  /** Why the feed is not live (null while it is, or before it started). */
  lastLoss: string | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatDeadline: NodeJS.Timeout | null = null;
  private heartbeatSeq = 0;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly id = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;

  constructor(
    private readonly connectionString: string,
    private readonly log: (m: string) => void = () => undefined,
    opts: ChangeFeedOptions = {},
  ) {
    const settings = changeFeedSettings();
    this.heartbeatMs = opts.heartbeatMs ?? settings.heartbeatMs;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? settings.heartbeatTimeoutMs;
  }

  /** Connects and listens; resolves once listening (or after the first failure, leaving a retry scheduled). */
  async start(): Promise<void> {
    await this.connect();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** A number that changes whenever a change of `table` is heard or the feed was down: compare before reuse. */
  epoch(table: string): string {
    return `${this.allEpoch}:${this.epochs.get(table) ?? 0}`;
  }

  /** Marks a table changed in this process (its own write), without waiting for the notification to come back. */
  touch(table: string): void {
    this.epochs.set(table, (this.epochs.get(table) ?? 0) + 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.live = false;
    this.stopHeartbeat();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'qinzhou-credit-changes',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('notification', (n) => {
      if (n.channel !== CHANGE_CHANNEL || !n.payload) return;
      if (n.payload.startsWith(HEARTBEAT_PREFIX)) {
        if (n.payload === `${HEARTBEAT_PREFIX}${this.id}:${this.heartbeatSeq}` && this.heartbeatDeadline) {
          clearTimeout(this.heartbeatDeadline);
          this.heartbeatDeadline = null;
        }
        return;
      }
      this.touch(n.payload);
    });
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (this.stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      // Whatever changed while nobody listened is unknown: start from empty caches.
      this.allEpoch++;
      this.live = true;
      this.lastLoss = null;
      if (this.attempt > 0) this.log('change feed: listening again');
      this.attempt = 0;
      this.startHeartbeat(client);
    } catch (e) {
      this.lost(client, e as Error);
    }
  }

  /** Sends a heartbeat notice every heartbeatMs; one not heard back in time loses the connection. */
  private startHeartbeat(client: pg.Client): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (this.heartbeatDeadline) return; // the last one is still awaited
      const seq = ++this.heartbeatSeq;
      this.heartbeatDeadline = setTimeout(() => {
        this.heartbeatDeadline = null;
        this.lost(client, new Error(`no heartbeat heard back within ${this.heartbeatTimeoutMs} ms (the connection stalled)`));
      }, this.heartbeatTimeoutMs);
      client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, `${HEARTBEAT_PREFIX}${this.id}:${seq}`]).catch(() => undefined);
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.heartbeatDeadline) clearTimeout(this.heartbeatDeadline);
    this.heartbeatTimer = null;
    this.heartbeatDeadline = null;
  }

  private lost(client: pg.Client, e: Error): void {
    if (this.client && this.client !== client) return;
    const wasLive = this.live;
    this.live = false;
    this.lastLoss = e.message;
    this.stopHeartbeat();
    this.client = null;
    this.allEpoch++;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.stopped || this.retryTimer) return;
    if (wasLive || this.attempt === 0) this.log(`change feed: ${e.message}; caches off until it is back`);
    const delay = Math.min(30_000, 500 * 2 ** this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }
}

const feeds = new WeakMap<Db, ChangeFeed>();

/** Starts listening for changes for the processes' pool `db` (the API's caches use it); stop it before the pool. */
export async function startChangeFeed(
  db: Db,
  log?: (m: string) => void,
  opts: ChangeFeedOptions & { connectionString?: string } = {},
): Promise<ChangeFeed> {
  const connection = (db.client.config as { connection: { connectionString: string } }).connection;
  const feed = new ChangeFeed(opts.connectionString ?? connection.connectionString, log, opts);
  feeds.set(db, feed);
  await feed.start();
  return feed;
}

/** What `db`'s feed is doing: listening, lost (retrying; caches off) or off (none started). */
export function feedState(db: Db): 'listening' | 'lost' | 'off' {
  const f = feeds.get(db);
  return !f || f.isStopped ? 'off' : f.live ? 'listening' : 'lost';
}

/** The live feed of `db`, or null when nothing listens (then nothing may be cached). */
export function liveFeed(db: Db): ChangeFeed | null {
  const f = feeds.get(db);
  return f && f.live ? f : null;
}
