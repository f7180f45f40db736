/**
 * The platform's settings as the code reads them. Each setting is defined once, in domain/settings.ts (a zod schema
 * with its default, the values allowed and what it means); here are the views of it the code uses: `loadConfig()`
 * and the accessors by subject (publicationSettings, querySettings, …), with the shapes the code has always had.
 *
 * How the settings reach the code. Each entry point parses the environment once, before it starts anything
 * (scripts/cli.ts, `requireSettings`: a refused value stops it with one line and exit 2). That parse is kept here,
 * and every accessor below reads the kept object: the code uses the very object the entry point checked, and an
 * activity cannot meet a bad value hours after the start. The kept object remembers the values of the platform's
 * variables it was parsed from; when one of them has changed since (a test's `withEnv`, or a variable assigned before an
 * app is made), the next accessor parses again, and a refused value throws SettingsError there. Comparing reads
 * each of the platform's variables once: microseconds, and the accessors run when something is made or once per
 * operation. An accessor given an `env` of its own reads that environment the same way. No module calls an accessor
 * when it is loaded (worker/schedules.ts reads its interval when the Schedule is put in place): the check comes first.
 */
import { SETTING_NAMES, parseSetting, parseSettings, type Settings } from './settings';

export { ROOT, SETTINGS, SettingsError, parseSettings, type Settings } from './settings';

let kept: { key: string; settings?: Settings; error?: unknown } | undefined;

const UNSET = '\u0001';
const keyOf = (env: NodeJS.ProcessEnv) => SETTING_NAMES.map((name) => env[name] ?? UNSET).join('\u0000');

/** Every setting, parsed from `env` (by default the process's environment); throws SettingsError on a refused value. */
export function settings(env: NodeJS.ProcessEnv = process.env): Settings {
  const key = keyOf(env);
  if (kept?.key !== key) {
    try {
      kept = { key, settings: parseSettings(env) };
    } catch (e) {
      kept = { key, error: e };
    }
  }
  if (kept.error !== undefined) throw kept.error;
  return kept.settings!;
}

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

export function loadConfig(): Config {
  const s = settings();
  return {
    databaseUrl: s.DATABASE_URL,
    databaseOwnerUrl: s.DATABASE_OWNER_URL,
    embeddedPgDir: s.PG_DATA_DIR,
    embeddedPgPort: s.PG_PORT,
    temporalAddress: s.TEMPORAL_ADDRESS,
    temporalNamespace: s.TEMPORAL_NAMESPACE,
    temporalDevDb: s.TEMPORAL_DB_FILE,
    temporalDevPort: s.TEMPORAL_PORT,
    temporalUiPort: s.TEMPORAL_UI_PORT,
    taskQueue: s.TEMPORAL_TASK_QUEUE,
    apiPort: s.PORT,
    apiHost: s.HOST,
    publicationWorkingDays: s.PUBLICATION_WORKING_DAYS,
    jsonBodyLimit: s.JSON_BODY_LIMIT,
    maxReportedErrors: s.MAX_REPORTED_ERRORS,
    ...obligationSettings(),
  };
}

/**
 * Settings of the reporting obligations: OBLIGATION_DUE_WORKING_DAYS (default 5) and OBLIGATION_REMINDER_WORKING_DAYS
 * (default "3,1"; empty: none), largest first.
 */
export function obligationSettings(): Pick<Config, 'obligationDueWorkingDays' | 'obligationReminderWorkingDays'> {
  const s = settings();
  return {
    obligationDueWorkingDays: s.OBLIGATION_DUE_WORKING_DAYS,
    obligationReminderWorkingDays: [...s.OBLIGATION_REMINDER_WORKING_DAYS],
  };
}

/** The runtime role the migrations grant (DATABASE_APP_ROLE, default `qz_app`; db/roles.ts). */
export function databaseAppRole(): string {
  return settings().DATABASE_APP_ROLE;
}

/**
 * Paths of the project-local Temporal binaries (installed by scripts/tools.sh), read when this module is loaded: a
 * path is never refused, so reading them cannot fail.
 */
export const TEMPORAL_CLI = parseSetting('TEMPORAL_CLI', process.env.TEMPORAL_CLI);
export const TEMPORAL_TEST_SERVER = parseSetting('TEMPORAL_TEST_SERVER', process.env.TEMPORAL_TEST_SERVER);

/** Publication (E12, E15) and the public API. */
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
  const s = settings(env);
  return {
    reviewWorkingDays: s.PUBLICATION_REVIEW_WORKING_DAYS,
    sweepBatch: s.PUBLICATION_SWEEP_BATCH,
    publicRateLimit: s.PUBLIC_RATE_LIMIT,
    publicRateSyncMs: s.PUBLIC_RATE_SYNC_MS,
    publicCacheSeconds: s.PUBLIC_CACHE_SECONDS,
  };
}

/** Queries, their log, retention and access monitoring (E14, E16, P11, P19). */
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
  const s = settings();
  return {
    ratingDecisionWorkingDays: s.RATING_DECISION_WORKING_DAYS,
    ratingApprovalValidDays: s.RATING_APPROVAL_VALID_DAYS,
    queryVolumeDailyLimit: s.QUERY_VOLUME_DAILY_LIMIT,
    queryVolumeFactor: s.QUERY_VOLUME_FACTOR,
    documentMaxBytes: s.DOCUMENT_MAX_BYTES,
    retentionBatchSize: s.RETENTION_BATCH_SIZE,
  };
}

/** Objections (E18, P21–P23). The 10 working days themselves are fixed by law. */
export interface ObjectionSettings {
  /** OBJECTION_ATTACHMENT_MAX_BYTES (10485760): largest evidence file (PDF, JPEG or PNG). */
  attachmentMaxBytes: number;
  /** OBJECTION_MAX_ATTACHMENTS (20): evidence files per objection. */
  maxAttachments: number;
  /** OBJECTION_MAX_RECORDS (50): records one objection may name. */
  maxRecords: number;
}

export function objectionSettings(): ObjectionSettings {
  const s = settings();
  return {
    attachmentMaxBytes: s.OBJECTION_ATTACHMENT_MAX_BYTES,
    maxAttachments: s.OBJECTION_MAX_ATTACHMENTS,
    maxRecords: s.OBJECTION_MAX_RECORDS,
  };
}

/** Intake of batches: read when the API app is made. */
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
  const s = settings();
  return {
    csvMaxLineBytes: s.CSV_MAX_LINE_BYTES,
    jsonMaxDepth: s.JSON_MAX_DEPTH,
    xlsxMaxUnzippedBytes: s.XLSX_MAX_UNZIPPED_BYTES,
    xlsxMaxSharedBytes: s.XLSX_MAX_SHARED_BYTES,
  };
}

/** Authentication: read when an API app is made. */
export interface AuthSettings {
  /**
   * AUTH_FAILURE_LIMIT (30): failed authentications a minute from one client address that are each recorded in the
   * audit log; beyond it that address's failures are answered 429 and recorded once a minute (auth.throttled).
   */
  authFailureLimit: number;
}

export function authSettings(): AuthSettings {
  return { authFailureLimit: settings().AUTH_FAILURE_LIMIT };
}

/**
 * TRUST_PROXY (loopback): which proxies in front of the API are trusted to name the client in X-Forwarded-For — the
 * client address is what the public rate limit and the failed-authentication limit count by. `loopback` (a proxy on
 * the same machine), a comma-separated list of addresses or CIDR ranges of the load balancers (e.g.
 * `10.0.0.0/8`), `uniquelocal`, a number of hops, or `false` (none: the peer address is the client). Given a value,
 * reads that value alone.
 */
export function trustProxySetting(raw?: string): boolean | number | string[] {
  const v = raw === undefined ? settings().TRUST_PROXY : parseSetting('TRUST_PROXY', raw);
  return Array.isArray(v) ? [...v] : v;
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

export function dbSessionSettings(env: NodeJS.ProcessEnv = process.env): DbSessionSettings {
  const s = settings(env);
  return {
    connectTimeoutMs: s.PG_CONNECT_TIMEOUT_MS,
    lockTimeoutMs: s.PG_LOCK_TIMEOUT_MS,
    idleInTransactionTimeoutMs: s.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    statementTimeoutMs: s.PG_STATEMENT_TIMEOUT_MS,
  };
}

/**
 * The change feed's check of its listening connection (db/changes.ts): CHANGE_FEED_HEARTBEAT_MS (5000) how often,
 * CHANGE_FEED_HEARTBEAT_TIMEOUT_MS (3000) how long a heartbeat may take to come back.
 */
export function changeFeedSettings(): { heartbeatMs: number; heartbeatTimeoutMs: number } {
  const s = settings();
  return { heartbeatMs: s.CHANGE_FEED_HEARTBEAT_MS, heartbeatTimeoutMs: s.CHANGE_FEED_HEARTBEAT_TIMEOUT_MS };
}

/**
 * AUDIT_CHAIN_INTERVAL_MS (1000): how often each API and worker process chains the audit entries committed since
 * (db/audit-chainer.ts); a positive whole number (the audit chain must be chained).
 */
export function auditChainIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  return settings(env).AUDIT_CHAIN_INTERVAL_MS;
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
  const s = settings();
  return {
    keyFile: s.SEAL_KEY_FILE,
    checkpointLog: s.CHECKPOINT_LOG,
    checkpointDir: s.CHECKPOINT_DIR,
    checkpointEveryMinutes: s.CHECKPOINT_EVERY_MINUTES,
    retiredDir: s.SEAL_RETIRED_DIR,
    rotationGraceMinutes: s.SEAL_ROTATION_GRACE_MINUTES,
  };
}

/**
 * Logs (ops/log.ts): LOG_LEVEL (`info`; one of trace, debug, info, warn, error, fatal, silent); LOG_FORMAT `json`
 * (one JSON object a line, for a log collector) or `pretty` (readable, for a terminal); by default `json` when
 * NODE_ENV=production, else `pretty`.
 */
export interface LogSettings {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  format: 'json' | 'pretty';
}

export function logSettings(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const s = settings(env);
  return { level: s.LOG_LEVEL, format: s.LOG_FORMAT };
}

/**
 * Metrics (api/metrics.ts): each API and worker process answers `GET /metrics` (Prometheus text format) on a port of
 * its own, apart from the API's: METRICS_HOST (`127.0.0.1`), METRICS_PORT (`9464`) for the API, WORKER_METRICS_PORT (`9465`) for the worker
 * (`npm start` serves both from the one process on the API's metrics port), TEMPORAL_METRICS_PORT (`9466`) for the Temporal
 * SDK's own worker metrics; 0 turns one off.
 */
export function metricsSettings(
  which: 'api' | 'worker' | 'temporal',
  env: NodeJS.ProcessEnv = process.env,
): { host: string; port: number } {
  const s = settings(env);
  const port = { api: s.METRICS_PORT, worker: s.WORKER_METRICS_PORT, temporal: s.TEMPORAL_METRICS_PORT }[which];
  return { host: s.METRICS_HOST, port };
}
