/**
 * Every setting of the platform, defined once: its environment variable, its default, the values it may take (with
 * the article of the regulations where one caps it) and what it means, in Chinese and English. The README's table
 * ("Configuration") lists the same variables; test/config.test.ts keeps the two together.
 *
 * `parseSettings(env)` reads them all from an environment and either gives the whole typed object or refuses with a
 * `SettingsError` whose message is one line naming each refused variable, its value as given (a URL's password
 * masked) and what is allowed. domain/config.ts gives the views the code uses (loadConfig, publicationSettings, …);
 * the entry points check the environment through it before they start anything (scripts/cli.ts).
 */
import path from 'node:path';
import { z } from './z';

/**
 * Project root (the folder that holds package.json): above domain/, or above dist/domain/ when compiled
 * (`npm run build`), so that `.data/` and `.tools/` are the project's own from the sources and from dist/ alike.
 */
const SOURCE_PARENT = path.resolve(__dirname, '..');
export const ROOT = path.basename(SOURCE_PARENT) === 'dist' ? path.dirname(SOURCE_PARENT) : SOURCE_PARENT;

/** A text in Chinese and English. */
export interface Bilingual {
  zh: string;
  en: string;
}

/** One setting: how its environment variable is read, and what the README and a refusal say of it. */
export interface Setting<T> {
  /** From the variable's value (undefined when unset) to the typed setting, its default included. */
  schema: z.ZodType<T, string | undefined>;
  /** The default as written in the README ('' : none). */
  fallback: string;
  allowed: Bilingual;
  meaning: Bilingual;
  /** The value may carry a password (a URL): a refusal shows it masked. */
  secret?: boolean;
}

type Kind<T> = Omit<Setting<T>, 'meaning'>;

// ─── Kinds of values ────────────────────────────────────────────────────────────────────────────────────────

const variable = z.string().optional();
/** Unset and empty are the same: the default applies (OBLIGATION_REMINDER_WORKING_DAYS excepted: empty is "none"). */
const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';
const orDefault = (fallback: string) => variable.transform((v) => (given(v) ? v.trim() : fallback));

/** The largest delay a Node timer and a PostgreSQL timeout take (2^31 − 1 ms); beyond it a timer fires at once. */
export const MAX_MS = 2_147_483_647;

function whole(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, cap?: Bilingual, unit?: Bilingual): Kind<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `${min}–${max}`;
  return {
    schema: orDefault(String(fallback)).pipe(z.string().regex(/^\d+$/)).transform(Number).pipe(z.number().int().min(min).max(max)),
    fallback: String(fallback),
    allowed: unit
      ? {
          zh: `${range} ${unit.zh}（整数${cap ? `；${cap.zh}` : ''}）`,
          en: `${range} ${unit.en}, a whole number${cap ? ` (${cap.en})` : ''}`,
        }
      : { zh: `${range} 的整数${cap ? `（${cap.zh}）` : ''}`, en: `a whole number ${range}${cap ? ` (${cap.en})` : ''}` },
  };
}

/** A bound on the regulations' word: `article` caps it at `max`. */
const capped = (fallback: number, min: number, max: number, article: string, what: Bilingual): Kind<number> =>
  whole(fallback, min, max, { zh: `${article}：至多 ${max} ${what.zh}`, en: `${article}: at most ${max} ${what.en}` }, what);

function port(fallback: number, zeroTurnsOff = false): Kind<number> {
  const min = zeroTurnsOff ? 0 : 1;
  const k = whole(fallback, min, 65535);
  return {
    ...k,
    allowed: zeroTurnsOff
      ? { zh: '端口号，0–65535 的整数（0 为关闭）', en: 'a port, a whole number 0–65535 (0 turns it off)' }
      : { zh: '端口号，1–65535 的整数', en: 'a port, a whole number 1–65535' },
  };
}

function millis(fallback: number, min: number, zeroIsNone = false): Kind<number> {
  const k = whole(fallback, min, MAX_MS);
  return {
    ...k,
    allowed: {
      zh: `${min}–${MAX_MS} 的整数毫秒${zeroIsNone ? '（0 为不限）' : ''}`,
      en: `whole milliseconds ${min}–${MAX_MS}${zeroIsNone ? ' (0: no bound)' : ''}`,
    },
  };
}

const WORD = /^\S+$/;
const aWord: Bilingual = { zh: '不含空白的文本', en: 'text without spaces' };

function text(fallback: string, pattern: RegExp = WORD, allowed: Bilingual = aWord): Kind<string> {
  return { schema: orDefault(fallback).pipe(z.string().regex(pattern)), fallback, allowed };
}

function optionalText(pattern: RegExp, allowed: Bilingual, secret = false): Kind<string | undefined> {
  return {
    schema: variable.transform((v) => (given(v) ? v.trim() : undefined)).pipe(z.string().regex(pattern).optional()),
    fallback: '',
    allowed,
    secret,
  };
}

const aPath: Bilingual = { zh: '文件或目录路径（相对路径以项目目录为准）', en: 'a file or folder path (relative to the project folder)' };

/** A path, made absolute against the project root. */
function file(fallback: string): Kind<string> {
  return { schema: orDefault(fallback).transform((v) => path.resolve(ROOT, v)), fallback, allowed: aPath };
}

function optionalFile(): Kind<string | undefined> {
  return { schema: variable.transform((v) => (given(v) ? path.resolve(ROOT, v.trim()) : undefined)), fallback: '', allowed: aPath };
}

function choice<const V extends readonly [string, ...string[]]>(fallback: V[number], values: V): Kind<V[number]> {
  return {
    schema: orDefault(fallback).pipe(z.enum(values)),
    fallback,
    allowed: { zh: `以下之一：${values.join(', ')}`, en: `one of ${values.join(', ')}` },
  };
}

/** A PostgreSQL connection URL (node-postgres reads URLs: postgres://user:password@host:port/database). */
function postgresUrl(): Kind<string | undefined> {
  const k = optionalText(/^postgres(ql)?:\/\/\S+$/, {
    zh: 'PostgreSQL 连接地址，如 postgres://用户:密码@主机:5432/数据库',
    en: 'a PostgreSQL URL, e.g. postgres://user:password@host:5432/database',
  });
  return {
    ...k,
    schema: k.schema.refine((v) => v === undefined || URL.canParse(v)),
    secret: true,
  };
}

/** IPv4 or IPv6 address, optionally with a CIDR prefix. */
function isAddressOrRange(s: string): boolean {
  const [address, prefix, ...rest] = s.split('/');
  if (rest.length) return false;
  const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
  const v4 = new RegExp(`^${octet}(\\.${octet}){3}$`).test(address);
  const v6 = address.includes(':') && /^[0-9a-fA-F:.]+$/.test(address) && (address.match(/::/g) ?? []).length <= 1;
  if (!v4 && !v6) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (v4 ? 32 : 128));
}

/** TRUST_PROXY, as Express's `trust proxy` takes it. */
function trustProxy(): Kind<boolean | number | string[]> {
  return {
    schema: variable.transform((raw, ctx) => {
      const v = (raw ?? '').trim();
      if (v === '') return ['loopback'];
      if (v === 'false' || v === '0') return false;
      if (/^\d+$/.test(v)) return Number(v);
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = list.find((s) => !['loopback', 'linklocal', 'uniquelocal'].includes(s) && !isAddressOrRange(s));
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: bad });
        return z.NEVER;
      }
      return list;
    }),
    fallback: 'loopback',
    allowed: {
      zh: 'loopback、linklocal、uniquelocal、以逗号分隔的 IP 地址或 CIDR 网段（如 10.0.0.0/8）、代理跳数，或 false',
      en: 'loopback, linklocal, uniquelocal, comma-separated IP addresses or CIDR ranges (e.g. 10.0.0.0/8), a number of hops, or false',
    },
  };
}

/** Working days before a due date, e.g. "3,1" (empty: none); given largest first, without repeats. */
function dayList(fallback: string, max: number): Kind<number[]> {
  return {
    schema: variable.transform((raw, ctx) => {
      const v = (raw ?? fallback).trim();
      if (v === '') return [];
      const parts = v.split(',').map((s) => s.trim());
      if (parts.some((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > max)) {
        ctx.addIssue({ code: 'custom', message: v });
        return z.NEVER;
      }
      return [...new Set(parts.map(Number))].sort((a, b) => b - a);
    }),
    fallback,
    allowed: {
      zh: `以逗号分隔的 1–${max} 的整数，如 3,1（空为不提醒）`,
      en: `comma-separated whole numbers 1–${max}, e.g. 3,1 (empty: no reminders)`,
    },
  };
}

/** An IANA time zone name (Asia/Shanghai): what Node and ICU both know. */
function timeZone(fallback: string): Kind<string> {
  const known = (tz: string) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz.replace(/^:/, '') });
      return true;
    } catch {
      return false;
    }
  };
  return {
    schema: orDefault(fallback).refine(known),
    fallback,
    allowed: { zh: 'IANA 时区名，如 Asia/Shanghai', en: 'an IANA time zone name, e.g. Asia/Shanghai' },
  };
}

/** The Temporal frontend: host:port (an IPv6 host in brackets); the port 1–65535. */
function hostPort(): Kind<string | undefined> {
  const k = optionalText(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/, {
    zh: '主机:端口，如 temporal.example.org:7233（端口 1–65535）',
    en: 'host:port, e.g. temporal.example.org:7233 (port 1–65535)',
  });
  return {
    ...k,
    schema: k.schema.refine((v) => {
      const p = v?.match(/:(\d+)$/)?.[1];
      return p === undefined || (Number(p) >= 1 && Number(p) <= 65535);
    }),
  };
}

const bytes: Bilingual = { zh: '字节', en: 'bytes' };
const workingDays: Bilingual = { zh: '个工作日', en: 'working days' };
const minutes: Bilingual = { zh: '分钟', en: 'minutes' };

const s = <T>(kind: Kind<T>, zh: string, en: string): Setting<T> => ({ ...kind, meaning: { zh, en } });

// ─── The settings ───────────────────────────────────────────────────────────────────────────────────────────

export const SETTINGS = {
  // PostgreSQL
  DATABASE_URL: s(
    postgresUrl(),
    '平台运行角色使用的 PostgreSQL；未设置时启动内嵌 PostgreSQL',
    'PostgreSQL to use, as the runtime role; unset: an embedded PostgreSQL is started',
  ),
  DATABASE_OWNER_URL: s(
    postgresUrl(),
    '所有者连接，供迁移使用（默认为 DATABASE_URL）；API 与 worker 不用',
    "the owner's connection, for migrations (default DATABASE_URL); the API and worker never use it",
  ),
  DATABASE_APP_ROLE: s(
    text('qz_app', /^[a-z_][a-z0-9_]{0,62}$/, {
      zh: 'PostgreSQL 角色名：小写字母、数字、下划线，至多 63 个字符',
      en: 'a plain PostgreSQL role name: lower-case letters, digits and _, at most 63 characters',
    }),
    '迁移授权的运行角色',
    'the runtime role the migrations grant',
  ),
  PG_DATA_DIR: s(file('.data/postgres'), '内嵌 PostgreSQL 的数据目录', 'data folder of the embedded PostgreSQL'),
  PG_PORT: s(port(54320), '内嵌 PostgreSQL 的端口', 'port of the embedded PostgreSQL'),
  PG_CONNECT_TIMEOUT_MS: s(millis(5_000, 0, true), '建立 PostgreSQL 连接的最长等待', 'longest wait to open a PostgreSQL connection'),
  PG_LOCK_TIMEOUT_MS: s(millis(10_000, 0, true), '一条语句等待锁的最长时间', 'longest wait of one statement for a lock'),
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: s(
    millis(60_000, 0, true),
    '事务空闲超过此时长即由服务器结束',
    'a transaction left idle this long is ended by the server',
  ),
  PG_STATEMENT_TIMEOUT_MS: s(
    millis(60_000, 0, true),
    'API 单条语句的最长执行时间（大批量 COPY 除外）',
    "longest statement of the API (the intake's COPY is exempt)",
  ),

  // Temporal
  TEMPORAL_ADDRESS: s(
    hostPort(),
    'Temporal 前端地址；未设置时启动 Temporal CLI 开发服务器',
    'Temporal frontend; unset: the Temporal CLI dev server is started',
  ),
  TEMPORAL_NAMESPACE: s(text('default'), 'Temporal 命名空间', 'Temporal namespace'),
  TEMPORAL_TASK_QUEUE: s(text('credit-platform'), '平台工作流的任务队列', "task queue of the platform's workflows"),
  TEMPORAL_DB_FILE: s(file('.data/temporal.db'), '开发服务器的状态文件', "the dev server's state"),
  TEMPORAL_PORT: s(port(7233), '开发服务器端口', 'port of the dev server'),
  TEMPORAL_UI_PORT: s(port(8233), '开发服务器 Web UI 端口', "port of the dev server's Web UI"),
  TEMPORAL_CLI: s(file('.tools/venv/bin/temporal'), 'Temporal CLI 可执行文件', 'the Temporal CLI'),
  TEMPORAL_TEST_SERVER: s(file('.tools/venv/bin/temporal-test-server'), '测试用的时间跳跃服务器', "the tests' time-skipping server"),

  // The API
  HOST: s(text('127.0.0.1'), 'API 监听的地址', 'where the API listens (host)'),
  PORT: s(port(3000), 'API 监听的端口', 'where the API listens (port)'),
  TRUST_PROXY: s(
    trustProxy(),
    '可信代理，由其在 X-Forwarded-For 中指明客户端（限流按客户端计数）',
    'proxies trusted to name the client in X-Forwarded-For (what the rate limits count by)',
  ),
  JSON_BODY_LIMIT: s(
    text('20mb', /^\d+(kb|mb)?$/i, {
      zh: '字节数，或带 kb / mb 的大小，如 20mb',
      en: 'a number of bytes, or a size in kb or mb, e.g. 20mb',
    }),
    '最大的 JSON 批次（更大的批次请用 CSV）',
    'largest JSON batch (larger ones go as CSV)',
  ),
  MAX_REPORTED_ERRORS: s(whole(1000, 1), '一次 422 回答列出的最多问题数', 'most problems listed in one 422 answer'),
  PUBLIC_RATE_LIMIT: s(whole(300, 1), '公开接口每个客户端 IP 每分钟的请求数', 'requests per minute per client IP on the public routes'),
  PUBLIC_RATE_SYNC_MS: s(
    millis(1000, 10),
    '各 API 进程交换公开请求计数的间隔',
    'how often each API process exchanges its public request counts',
  ),
  PUBLIC_CACHE_SECONDS: s(whole(60, 0), '公开回答的 Cache-Control max-age（秒）', 'Cache-Control max-age of public answers (seconds)'),
  AUTH_FAILURE_LIMIT: s(
    whole(30, 1),
    '每个地址 60 秒内逐条记录的认证失败次数，超过即回答 429',
    'failed authentications in any 60 seconds from one address each recorded; beyond, 429',
  ),

  // Intake
  CSV_MAX_LINE_BYTES: s(whole(4 * 1024 * 1024, 1, undefined, undefined, bytes), '读取的最长 CSV 记录', 'the longest CSV record read'),
  JSON_MAX_DEPTH: s(whole(32, 1), '一条 JSON 记录中数组与对象的最大嵌套层数', 'how deeply arrays and objects may nest in one JSON record'),
  XLSX_MAX_UNZIPPED_BYTES: s(
    whole(1024 * 1024 * 1024, 1, undefined, undefined, bytes),
    '上传的工作簿解压后的总大小上限',
    'what an uploaded workbook may unzip to in all',
  ),
  XLSX_MAX_SHARED_BYTES: s(
    whole(128 * 1024 * 1024, 1, undefined, undefined, bytes),
    '工作簿共享字符串、样式等部件解压后的上限',
    "what a workbook's shared strings, styles and workbook parts may unzip to",
  ),

  // Publication (E12, E15)
  PUBLICATION_WORKING_DAYS: s(
    capped(5, 1, 5, 'E12', workingDays),
    '自接收至公示期限的工作日数',
    'working days from receipt to the publication deadline',
  ),
  PUBLICATION_REVIEW_WORKING_DAYS: s(
    whole(1, 0, undefined, undefined, workingDays),
    '工作人员审核一个批次的完整工作日数，之后未保留的记录即公示（0 为立即）',
    'full working days staff may review a batch before records not held are published (0: at once)',
  ),
  PUBLICATION_SWEEP_BATCH: s(whole(50_000, 1), '每日到期清理每条语句处理的行数', 'rows per statement of the daily expiry sweep'),

  // Reporting obligations (E7, P9)
  OBLIGATION_DUE_WORKING_DAYS: s(
    whole(5, 1, undefined, undefined, workingDays),
    '报送期结束后至应报送日的工作日数',
    'working days after a period ends until its submission is due',
  ),
  OBLIGATION_REMINDER_WORKING_DAYS: s(
    dayList('3,1', 60),
    '在应报送日前这些工作日发送提醒',
    'reminders this many working days before the due date',
  ),

  // Queries (E14, E16, P11, P19)
  RATING_DECISION_WORKING_DAYS: s(
    whole(5, 1, undefined, undefined, workingDays),
    '工作人员决定评级机构申请的工作日数（E14.3），逾期失效',
    "working days staff have to decide a rating agency's request (E14.3) before it lapses",
  ),
  RATING_APPROVAL_VALID_DAYS: s(
    whole(30, 1, undefined, undefined, { zh: '天', en: 'days' }),
    '已批准的评级申请可用于查询的天数',
    'days an approved rating request may be used',
  ),
  QUERY_VOLUME_DAILY_LIMIT: s(
    whole(200, 1),
    '主体每日查询超过此数即标为异常',
    "a principal's daily queries above this are flagged unusual",
  ),
  QUERY_VOLUME_FACTOR: s(
    whole(5, 1),
    '主体每日查询达其 30 日平均的此倍数即标为异常',
    "a day with this many times the principal's own daily average is flagged unusual",
  ),
  DOCUMENT_MAX_BYTES: s(
    whole(5 * 1024 * 1024, 1, undefined, undefined, bytes),
    '上传文件（授权书、职责证明）的大小上限',
    'largest uploaded document (authorization, proof of duty)',
  ),
  RETENTION_BATCH_SIZE: s(
    whole(5000, 1),
    '保存期限清理每条语句删除的个人记录数（P19）',
    'personal records removed per statement of the retention sweep (P19)',
  ),

  // Objections (E18, P21–P23)
  OBJECTION_ATTACHMENT_MAX_BYTES: s(
    whole(10 * 1024 * 1024, 1, undefined, undefined, bytes),
    '异议证据文件的大小上限',
    'largest evidence file of an objection',
  ),
  OBJECTION_MAX_ATTACHMENTS: s(whole(20, 1), '一件异议的证据文件数上限', 'evidence files one objection may hold'),
  OBJECTION_MAX_RECORDS: s(whole(50, 1), '一件异议可指明的记录数上限', 'records one objection may name'),

  // Change feed and audit chain
  CHANGE_FEED_HEARTBEAT_MS: s(millis(5_000, 1), '检查变更通知连接的间隔', 'how often each process checks its change-notice connection'),
  CHANGE_FEED_HEARTBEAT_TIMEOUT_MS: s(millis(3_000, 1), '等待心跳返回的最长时间', 'how long a heartbeat may take to come back'),
  AUDIT_CHAIN_INTERVAL_MS: s(
    millis(1_000, 1),
    '各 API 与 worker 进程将新提交的审计条目串链的间隔',
    'how often each API and worker process chains the audit entries committed since',
  ),

  // The seal (E23, P26)
  SEAL_KEY_FILE: s(
    file('.data/keys/seal-ed25519.pem'),
    '平台印章：Ed25519 私钥（PEM），为每条审计条目加印并签署检查点',
    "the platform's seal: an Ed25519 private key (PEM) that seals every audit entry and signs the checkpoints",
  ),
  CHECKPOINT_LOG: s(
    optionalFile(),
    '签名检查点的只追加文件（默认按数据库命名，放在 CHECKPOINT_DIR）',
    'the append-only file of signed checkpoints (default: named after the database, in CHECKPOINT_DIR)',
  ),
  CHECKPOINT_DIR: s(file('.data/checkpoints'), '检查点文件所在目录', 'the folder of the checkpoint files'),
  CHECKPOINT_EVERY_MINUTES: s(capped(60, 1, 24 * 60, 'E23', minutes), 'worker 签署检查点的间隔', 'how often the worker signs a checkpoint'),
  SEAL_RETIRED_DIR: s(
    optionalFile(),
    '轮换停用的印章密钥（默认 SEAL_KEY_FILE 旁的 retired/）',
    'the seal keys a rotation retired (default retired/ beside SEAL_KEY_FILE)',
  ),
  SEAL_ROTATION_GRACE_MINUTES: s(
    capped(60, 1, 24 * 60, 'E23', minutes),
    '密钥停用后其印章仍被接受的时长',
    "how long after its retirement a key's seals are still accepted",
  ),

  // Operations
  LOG_LEVEL: s(choice('info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), '日志级别', 'what the logs keep'),
  LOG_FORMAT: s(
    {
      schema: variable.transform((v) => (given(v) ? v.trim() : undefined)).pipe(z.enum(['json', 'pretty']).optional()),
      fallback: 'json (NODE_ENV=production), pretty',
      allowed: { zh: 'json 或 pretty', en: 'json or pretty' },
    },
    '日志格式：json（每行一个 JSON 对象）或 pretty（便于阅读）',
    'log format: json (one JSON object a line) or pretty (readable)',
  ),
  NODE_ENV: s(
    { schema: variable.transform((v) => (given(v) ? v.trim() : undefined)), fallback: '', allowed: { zh: '任意', en: 'any' } },
    'production 时日志默认为 json',
    'production makes json the default log format',
  ),
  METRICS_HOST: s(text('127.0.0.1'), '指标端点 GET /metrics 监听的地址', 'where GET /metrics listens (host)'),
  METRICS_PORT: s(port(9464, true), 'API 进程的指标端口', "the API process's metrics port"),
  WORKER_METRICS_PORT: s(port(9465, true), 'worker 进程的指标端口', "the worker process's metrics port"),
  TEMPORAL_METRICS_PORT: s(port(9466, true), 'Temporal SDK 自身 worker 指标的端口', "the port of the Temporal SDK's own worker metrics"),
  TZ: s(
    timeZone('Asia/Shanghai'),
    '进程时区（各入口未设置时设为 Asia/Shanghai）',
    "the process's time zone (set by every entry point when unset)",
  ),
};

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Shape = { [K in SettingName]: (typeof SETTINGS)[K]['schema'] };
const shape = Object.fromEntries(
  SETTING_NAMES.map((name) => [name, SETTINGS[name].schema.describe(`${SETTINGS[name].meaning.zh} / ${SETTINGS[name].meaning.en}`)]),
) as Shape;

/** The whole environment's settings; the defaults that depend on another setting are filled in last. */
export const SettingsSchema = z.object(shape).transform((v) => ({
  ...v,
  LOG_FORMAT: v.LOG_FORMAT ?? (v.NODE_ENV === 'production' ? 'json' : 'pretty'),
  SEAL_RETIRED_DIR: v.SEAL_RETIRED_DIR ?? path.join(path.dirname(v.SEAL_KEY_FILE), 'retired'),
}));

export type Settings = z.output<typeof SettingsSchema>;

// ─── Refusals ───────────────────────────────────────────────────────────────────────────────────────────────

export interface Refusal {
  name: SettingName;
  /** The value as given, for printing (a URL's password masked, quoted when it has spaces). */
  value: string;
  allowed: Bilingual;
}

function shown(name: SettingName, raw: string | undefined): string {
  let v = raw ?? '';
  if (SETTINGS[name].secret) v = v.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/, '$1***@').replace(/(password=)[^&\s]*/gi, '$1***');
  if (v.length > 120) v = `${v.slice(0, 120)}…`;
  return v === '' || /[\s"'\\]/.test(v) ? JSON.stringify(v) : v;
}

/** The one line that names every refused variable, its value and what is allowed. */
export function refusalLine(refusals: readonly Refusal[]): string {
  return `配置错误 / invalid setting: ${refusals.map((r) => `${r.name}=${r.value} — 应为：${r.allowed.zh} / allowed: ${r.allowed.en}`).join('; ')}`;
}

/** Settings the environment does not allow; its message is one line (refusalLine). */
export class SettingsError extends Error {
  constructor(readonly refusals: readonly Refusal[]) {
    super(refusalLine(refusals));
    this.name = 'SettingsError';
  }
}

function refusalsOf(error: z.ZodError, raw: (name: SettingName) => string | undefined): Refusal[] {
  const names = [...new Set(error.issues.map((i) => String(i.path[0])))].filter((n): n is SettingName => n in SETTINGS);
  return names.map((name) => ({ name, value: shown(name, raw(name)), allowed: SETTINGS[name].allowed }));
}

/** Every setting from `env`, or a SettingsError naming each refused one. */
export function parseSettings(env: NodeJS.ProcessEnv): Settings {
  const r = SettingsSchema.safeParse(env);
  if (!r.success) throw new SettingsError(refusalsOf(r.error, (n) => env[n]));
  return r.data;
}

/** One setting from its value alone (undefined: unset), or a SettingsError. */
export function parseSetting<N extends SettingName>(name: N, raw: string | undefined): z.output<Shape[N]> {
  const r = (SETTINGS[name].schema as z.ZodType<z.output<Shape[N]>, string | undefined>).safeParse(raw);
  if (!r.success) throw new SettingsError([{ name, value: shown(name, raw), allowed: SETTINGS[name].allowed }]);
  return r.data;
}
