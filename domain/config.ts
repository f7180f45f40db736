import path from 'node:path';

/** Project root (the folder that holds package.json). */
export const ROOT = path.resolve(__dirname, '..');

export interface Config {
  /** PostgreSQL URL; empty means "start the embedded PostgreSQL". */
  databaseUrl: string | undefined;
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
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`配置错误 / bad setting: ${name}=${raw} is not a positive integer`);
  return n;
}

export function loadConfig(): Config {
  return {
    databaseUrl: process.env.DATABASE_URL || undefined,
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
    publicationWorkingDays: int('PUBLICATION_WORKING_DAYS', 5),
    jsonBodyLimit: process.env.JSON_BODY_LIMIT || '20mb',
    maxReportedErrors: int('MAX_REPORTED_ERRORS', 1000),
  };
}

/** Paths of the project-local Temporal binaries (installed by scripts/tools.sh). */
export const TEMPORAL_CLI = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/venv/bin/temporal');
export const TEMPORAL_TEST_SERVER = process.env.TEMPORAL_TEST_SERVER || path.join(ROOT, '.tools/venv/bin/temporal-test-server');
