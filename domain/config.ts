import path from 'node:path';

/** Project root (the folder that holds package.json). */
export const ROOT = path.resolve(__dirname, '..');

export interface Config {
  /** PostgreSQL URL; empty means "start the embedded PostgreSQL". */
  databaseUrl: string | undefined;
  /** The owner's URL, for migrations (DATABASE_OWNER_URL); by default DATABASE_URL (db/roles.ts). */
  databaseOwnerUrl: string | undefined;
  /** Folder and port of the embedded PostgreSQL (used only without DATABASE_URL). */
  embeddedPgDir: string;
  embeddedPgPort: number;
  /** Temporal frontend address; empty means "start the Temporal CLI dev server". */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalDevDb: string;
  temporalDevPort: number;
  temporalUiPort: number;
  taskQueue: string;
  apiPort: number;
  apiHost: string;
  /** Working days between receipt and publication (E12 last paragraph). */
  publicationWorkingDays: number;
  /** Largest JSON request body accepted (bytes); large batches should be sent as CSV. */
  jsonBodyLimit: string;
  /** Most validation errors listed in one 422 answer. */
  maxReportedErrors: number;
  /** Reporting obligations (E7, P9): working days after a period ends until its submission is due. */
  obligationDueWorkingDays: number;
  /** Reporting obligations: reminders sent this many working days before the due date (e.g. [3, 1]). */
  obligationReminderWorkingDays: number[];
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`配置错误 / bad setting: ${name}=${raw} is not a positive integer`);
  return n;
}

/** A setting the regulation caps (e.g. E12: published within 5 working days). */
function atMost(name: string, value: number, max: number, article: string): number {
  if (value > max) throw new Error(`配置错误 / bad setting: ${name}=${value} exceeds ${max} (${article})`);
  return value;
}

export function loadConfig(): Config {
  return {
    databaseUrl: process.env.DATABASE_URL || undefined,
    databaseOwnerUrl: process.env.DATABASE_OWNER_URL || undefined,
    embeddedPgDir: path.resolve(ROOT, process.env.PG_DATA_DIR || '.data/postgres'),
    embeddedPgPort: int('PG_PORT', 54320),
    temporalAddress: process.env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: process.env.TEMPORAL_NAMESPACE || 'default',
    temporalDevDb: path.resolve(ROOT, process.env.TEMPORAL_DB_FILE || '.data/temporal.db'),
    temporalDevPort: int('TEMPORAL_PORT', 7233),
    temporalUiPort: int('TEMPORAL_UI_PORT', 8233),
    taskQueue: process.env.TEMPORAL_TASK_QUEUE || 'credit-platform',
    apiPort: int('PORT', 3000),
    apiHost: process.env.HOST || '127.0.0.1',
    publicationWorkingDays: atMost('PUBLICATION_WORKING_DAYS', int('PUBLICATION_WORKING_DAYS', 5), 5, 'E12'),
    jsonBodyLimit: process.env.JSON_BODY_LIMIT || '20mb',
    maxReportedErrors: int('MAX_REPORTED_ERRORS', 1000),
    ...obligationSettings(),
  };
}

/**
 * Settings of the reporting obligations, read when used (workers and API need no restart order):
 * OBLIGATION_DUE_WORKING_DAYS (default 5) and OBLIGATION_REMINDER_WORKING_DAYS (default "3,1"; empty: none).
 */
export function obligationSettings(): Pick<Config, 'obligationDueWorkingDays' | 'obligationReminderWorkingDays'> {
  const raw = process.env.OBLIGATION_REMINDER_WORKING_DAYS ?? '3,1';
  const days = raw.trim() === '' ? [] : raw.split(',').map((s) => Number(s.trim()));
  if (days.some((n) => !Number.isInteger(n) || n <= 0 || n > 60)) {
    throw new Error(`配置错误 / bad setting: OBLIGATION_REMINDER_WORKING_DAYS=${raw} is not a list of whole numbers 1–60, e.g. 3,1`);
  }
  return {
    obligationDueWorkingDays: int('OBLIGATION_DUE_WORKING_DAYS', 5),
    obligationReminderWorkingDays: [...new Set(days)].sort((a, b) => b - a),
  };
}

/** Paths of the project-local Temporal binaries (installed by scripts/tools.sh). */
export const TEMPORAL_CLI = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/venv/bin/temporal');
export const TEMPORAL_TEST_SERVER = process.env.TEMPORAL_TEST_SERVER || path.join(ROOT, '.tools/venv/bin/temporal-test-server');

/** Publication (E12, E15) and the public API: settings read from the environment, with defaults. */
export interface PublicationSettings {
  /** PUBLICATION_REVIEW_WORKING_DAYS (1): full working days staff may review a batch; records not held are published at the start of the next working day (0: at once). */
  reviewWorkingDays: number;
  /** PUBLICATION_SWEEP_BATCH (50000): rows per statement of the daily expiry sweep. */
  sweepBatch: number;
  /** PUBLIC_RATE_LIMIT (300): requests per minute per client IP on the public endpoints. */
  publicRateLimit: number;
  /** PUBLIC_RATE_SYNC_MS (1000): how often each API process exchanges its public request counts with the others (through PostgreSQL). */
  publicRateSyncMs: number;
  /** PUBLIC_CACHE_SECONDS (60): Cache-Control max-age of the public answers (ETag revalidation after it). */
  publicCacheSeconds: number;
}

export function publicationSettings(env: NodeJS.ProcessEnv = process.env): PublicationSettings {
  const whole = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`配置错误 / bad setting: ${name}=${raw} is not a whole number ≥ ${min}`);
    return n;
  };
  return {
    reviewWorkingDays: whole('PUBLICATION_REVIEW_WORKING_DAYS', 1, 0),
    sweepBatch: whole('PUBLICATION_SWEEP_BATCH', 50_000, 1),
    publicRateLimit: whole('PUBLIC_RATE_LIMIT', 300, 1),
    publicRateSyncMs: whole('PUBLIC_RATE_SYNC_MS', 1000, 10),
    publicCacheSeconds: whole('PUBLIC_CACHE_SECONDS', 60, 0),
  };
}

/** Queries, their log, retention and access monitoring (E14, E16, P11, P19): settings read when used. */
export interface QuerySettings {
  /** RATING_DECISION_WORKING_DAYS (5): working days staff have to approve or reject a rating agency's request (E14.3); then it lapses. */
  ratingDecisionWorkingDays: number;
  /** RATING_APPROVAL_VALID_DAYS (30): days an approved rating request may be used for queries. */
  ratingApprovalValidDays: number;
  /** QUERY_VOLUME_DAILY_LIMIT (200): queries a principal may make in a day before it is flagged as unusual. */
  queryVolumeDailyLimit: number;
  /** QUERY_VOLUME_FACTOR (5): a day with this many times the principal's own daily average (30 days) is unusual. */
  queryVolumeFactor: number;
  /** DOCUMENT_MAX_BYTES (5242880): largest uploaded document (authorization, proof of duty). */
  documentMaxBytes: number;
  /** RETENTION_BATCH_SIZE (5000): personal records (with all their versions) removed per statement of the retention sweep (P19). */
  retentionBatchSize: number;
}

export function querySettings(): QuerySettings {
  return {
    ratingDecisionWorkingDays: int('RATING_DECISION_WORKING_DAYS', 5),
    ratingApprovalValidDays: int('RATING_APPROVAL_VALID_DAYS', 30),
    queryVolumeDailyLimit: int('QUERY_VOLUME_DAILY_LIMIT', 200),
    queryVolumeFactor: int('QUERY_VOLUME_FACTOR', 5),
    documentMaxBytes: int('DOCUMENT_MAX_BYTES', 5 * 1024 * 1024),
    retentionBatchSize: int('RETENTION_BATCH_SIZE', 5000),
  };
}

/** Objections (E18, P21–P23): settings read when used. The 10 working days themselves are fixed by law. */
export interface ObjectionSettings {
  /** OBJECTION_ATTACHMENT_MAX_BYTES (10485760): largest evidence file (PDF, JPEG or PNG). */
  attachmentMaxBytes: number;
  /** OBJECTION_MAX_ATTACHMENTS (20): evidence files per objection. */
  maxAttachments: number;
  /** OBJECTION_MAX_RECORDS (50): records one objection may name. */
  maxRecords: number;
}

export function objectionSettings(): ObjectionSettings {
  return {
    attachmentMaxBytes: int('OBJECTION_ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024),
    maxAttachments: int('OBJECTION_MAX_ATTACHMENTS', 20),
    maxRecords: int('OBJECTION_MAX_RECORDS', 50),
  };
}

/** Intake of batches: settings read when the API app is made. */
export interface IntakeSettings {
  /** CSV_MAX_LINE_BYTES (4194304): the longest CSV record (one line, or more with quoted line breaks) read; a longer one refuses the batch (413) and reading stops, so memory stays bounded. */
  csvMaxLineBytes: number;
  /** JSON_MAX_DEPTH (32): how deeply arrays and objects may nest in one JSON record; a deeper one refuses the batch (400). */
  jsonMaxDepth: number;
  /** XLSX_MAX_UNZIPPED_BYTES (1073741824): what an uploaded workbook may unzip to in all (its sheets are spooled to a temp folder); more refuses it (413). */
  xlsxMaxUnzippedBytes: number;
  /** XLSX_MAX_SHARED_BYTES (134217728): what a workbook's shared strings, styles and workbook parts may unzip to (held in memory while its sheet is read); more refuses it (413). */
  xlsxMaxSharedBytes: number;
}

export function intakeSettings(): IntakeSettings {
  return {
    csvMaxLineBytes: int('CSV_MAX_LINE_BYTES', 4 * 1024 * 1024),
    jsonMaxDepth: int('JSON_MAX_DEPTH', 32),
    xlsxMaxUnzippedBytes: int('XLSX_MAX_UNZIPPED_BYTES', 1024 * 1024 * 1024),
    xlsxMaxSharedBytes: int('XLSX_MAX_SHARED_BYTES', 128 * 1024 * 1024),
  };
}

/** Authentication: settings read when an API app is made. */
export interface AuthSettings {
  /**
   * AUTH_FAILURE_LIMIT (30): failed authentications a minute from one client address that are each recorded in the
   * audit log; beyond it that address's failures are answered 429 and recorded once a minute (auth.throttled).
   */
  authFailureLimit: number;
}

export function authSettings(): AuthSettings {
  return { authFailureLimit: int('AUTH_FAILURE_LIMIT', 30) };
}

/**
 * TRUST_PROXY (loopback): which proxies in front of the API are trusted to name the client in X-Forwarded-For — the
 * client address is what the public rate limit and the failed-authentication limit count by. `loopback` (a proxy on
 * the same machine), a comma-separated list of addresses or CIDR ranges of the load balancers (e.g.
 * `10.0.0.0/8`), `uniquelocal`, a number of hops, or `false` (none: the peer address is the client).
 */
export function trustProxySetting(raw: string | undefined = process.env.TRUST_PROXY): boolean | number | string[] {
  const v = (raw ?? '').trim();
  if (v === '') return ['loopback'];
  if (v === 'false' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ok = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)$/;
  const bad = list.find((s) => !ok.test(s));
  if (bad)
    throw new Error(
      `配置错误 / bad setting: TRUST_PROXY=${raw} (${bad} is not an address, a CIDR range, loopback, linklocal or uniquelocal)`,
    );
  return list;
}

/**
 * The platform's PostgreSQL sessions, so that an outage or a stalled transaction is answered 503 at once instead of
 * holding requests: PG_CONNECT_TIMEOUT_MS (5000) to open a connection; PG_LOCK_TIMEOUT_MS (10000) a statement waits
 * for a lock; PG_IDLE_IN_TRANSACTION_TIMEOUT_MS (60000) a transaction may sit idle before the server ends it;
 * PG_STATEMENT_TIMEOUT_MS (60000) one statement of the API may run (the intake's COPY of a large batch is exempt;
 * the worker's sweeps have none). 0 turns a bound off.
 */
export interface DbSessionSettings {
  connectTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  statementTimeoutMs: number;
}

function nonNegative(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`配置错误 / bad setting: ${name}=${raw} is not a whole number of milliseconds`);
  return n;
}

export function dbSessionSettings(env: NodeJS.ProcessEnv = process.env): DbSessionSettings {
  return {
    connectTimeoutMs: nonNegative('PG_CONNECT_TIMEOUT_MS', 5_000, env),
    lockTimeoutMs: nonNegative('PG_LOCK_TIMEOUT_MS', 10_000, env),
    idleInTransactionTimeoutMs: nonNegative('PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, env),
    statementTimeoutMs: nonNegative('PG_STATEMENT_TIMEOUT_MS', 60_000, env),
  };
}

/**
 * The change feed's check of its listening connection (db/changes.ts): CHANGE_FEED_HEARTBEAT_MS (5000) how often,
 * CHANGE_FEED_HEARTBEAT_TIMEOUT_MS (3000) how long a heartbeat may take to come back.
 */
export function changeFeedSettings(): { heartbeatMs: number; heartbeatTimeoutMs: number } {
  return { heartbeatMs: int('CHANGE_FEED_HEARTBEAT_MS', 5_000), heartbeatTimeoutMs: int('CHANGE_FEED_HEARTBEAT_TIMEOUT_MS', 3_000) };
}

/**
 * AUDIT_CHAIN_INTERVAL_MS (1000): how often each API and worker process chains the audit entries committed since
 * (db/audit-chainer.ts); a positive whole number.
 */
export function auditChainIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = nonNegative('AUDIT_CHAIN_INTERVAL_MS', 1_000, env);
  if (ms === 0) throw new Error('配置错误 / bad setting: AUDIT_CHAIN_INTERVAL_MS=0: the audit chain must be chained');
  return ms;
}

/**
 * The platform's seal (db/seal.ts), kept outside the database: SEAL_KEY_FILE the Ed25519 private key (PEM) that seals
 * each audit entry and signs the checkpoints (default `.data/keys/seal-ed25519.pem`, made by the first process that
 * needs it when missing); CHECKPOINT_LOG the append-only file of signed checkpoints, one per platform database (by
 * default `<database>@<host>_<port>.jsonl` in CHECKPOINT_DIR, `.data/checkpoints`); CHECKPOINT_EVERY_MINUTES (60)
 * how often the worker signs one; SEAL_RETIRED_DIR (`retired/` beside the key) the keys a rotation retired, and
 * SEAL_ROTATION_GRACE_MINUTES (60) how long after its retirement a key's seal is still accepted.
 */
export interface SealSettings {
  keyFile: string;
  /** Given explicitly; otherwise named after the database in `checkpointDir`. */
  checkpointLog: string | undefined;
  checkpointDir: string;
  checkpointEveryMinutes: number;
  /** Earlier seal keys (`npm run seal:key -- --rotate` moves the key here), kept to check what they sealed. */
  retiredDir: string;
  /** How long after its retirement a key's seal is still accepted: the time to restart every process on the new key. */
  rotationGraceMinutes: number;
}
export function sealSettings(): SealSettings {
  return {
    keyFile: path.resolve(ROOT, process.env.SEAL_KEY_FILE || '.data/keys/seal-ed25519.pem'),
    checkpointLog: process.env.CHECKPOINT_LOG ? path.resolve(ROOT, process.env.CHECKPOINT_LOG) : undefined,
    checkpointDir: path.resolve(ROOT, process.env.CHECKPOINT_DIR || '.data/checkpoints'),
    checkpointEveryMinutes: atMost('CHECKPOINT_EVERY_MINUTES', int('CHECKPOINT_EVERY_MINUTES', 60), 24 * 60, 'E23'),
    retiredDir: process.env.SEAL_RETIRED_DIR
      ? path.resolve(ROOT, process.env.SEAL_RETIRED_DIR)
      : path.join(path.dirname(path.resolve(ROOT, process.env.SEAL_KEY_FILE || '.data/keys/seal-ed25519.pem')), 'retired'),
    rotationGraceMinutes: atMost('SEAL_ROTATION_GRACE_MINUTES', int('SEAL_ROTATION_GRACE_MINUTES', 60), 24 * 60, 'E23'),
  };
}

/**
 * Logs (domain/log.ts): LOG_LEVEL (`info`; one of trace, debug, info, warn, error, fatal, silent); LOG_FORMAT `json`
 * (one JSON object a line, for a log collector) or `pretty` (readable, for a terminal); by default `json` when
 * NODE_ENV=production, else `pretty`.
 */
export interface LogSettings {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  format: 'json' | 'pretty';
}
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function logSettings(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const level = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new Error(`配置错误 / bad setting: LOG_LEVEL=${level} is not one of ${LOG_LEVELS.join(', ')}`);
  const format = env.LOG_FORMAT || (env.NODE_ENV === 'production' ? 'json' : 'pretty');
  if (format !== 'json' && format !== 'pretty') throw new Error(`配置错误 / bad setting: LOG_FORMAT=${format} is not json or pretty`);
  return { level: level as LogSettings['level'], format };
}

/**
 * Metrics (api/metrics.ts): each API and worker process answers `GET /metrics` (Prometheus text format) on a port of
 * its own, apart from the API's: METRICS_HOST (`127.0.0.1`), METRICS_PORT (`9464`) for the API, WORKER_METRICS_PORT (`9465`) for the worker;
 * `npm start` serves both from the one process on the API's metrics port); 0 turns it off.
 */
export function metricsSettings(which: 'api' | 'worker', env: NodeJS.ProcessEnv = process.env): { host: string; port: number } {
  const name = which === 'api' ? 'METRICS_PORT' : 'WORKER_METRICS_PORT';
  const raw = env[name];
  const port = raw === undefined || raw === '' ? (which === 'api' ? 9464 : 9465) : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`配置错误 / bad setting: ${name}=${raw} is not a port (0–65535; 0 turns metrics off)`);
  return { host: env.METRICS_HOST || '127.0.0.1', port };
}
