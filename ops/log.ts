import pino, { type Logger, type LoggerOptions } from 'pino';
import { logSettings } from '../domain/config';

/**
 * The platform's logs: pino, one logger per process with a child per component (`api`, `http`, `worker`, `temporal`,
 * `platform`, …). LOG_FORMAT=json writes one JSON object a line (production: for a log collector); `pretty` writes
 * readable lines (development; through pino-pretty, a development dependency — without it, JSON). LOG_LEVEL filters.
 *
 * Nothing secret or personal leaves in clear: keys, passwords, secrets and the Authorization header are replaced by
 * `[redacted]`, and every citizen ID number in a message or a field is masked to its division code and its last four
 * characters (`450702********123X`, `maskIdentifiers`).
 */

/** A citizen ID (GB 11643): 6-digit division code, birth date, 3-digit sequence, check character. */
const CITIZEN_ID = /(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{2})(\d[\dXx])(?![0-9A-Za-z])/g;

/** Masks every citizen ID number in `text`: the division code and the last four characters are kept. */
export function maskIdentifiers(text: string): string {
  return text.includes('19') || text.includes('20')
    ? text.replace(CITIZEN_ID, (_m, division: string, _born: string, last: string) => `${division}********${_born.slice(-2)}${last}`)
    : text;
}

const SECRET_KEYS = new Set(['authorization', 'password', 'secret', 'key', 'api_key', 'apikey', 'token', 'cookie', 'seal']);

/** The same, through an object's strings (depth-bounded), and secret-named fields replaced. */
function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskIdentifiers(value);
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k.toLowerCase()) ? '[redacted]' : maskDeep(v, depth + 1);
  return out;
}

export function loggerOptions(): LoggerOptions {
  const { level } = logSettings();
  return {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.password', '*.secret', '*.key'],
      censor: '[redacted]',
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => maskDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskIdentifiers(a) : a)) as Parameters<typeof method>);
      },
    },
  };
}

function prettyStream(): pino.DestinationStream | undefined {
  try {
    // A development dependency: absent from a production install, where the logs are JSON anyway.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (o: Record<string, unknown>) => pino.DestinationStream;
    return pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

let root: Logger | undefined;
let http: Logger | undefined;
const children = new Map<string, Logger>();
let destination: pino.DestinationStream | undefined;

/** Sends this process's logs to `stream` from now on (as JSON lines, whatever LOG_FORMAT says): for a test to read them. */
export function useLogDestination(stream: pino.DestinationStream): void {
  destination = stream;
  root = pino(loggerOptions(), stream);
  http = undefined;
  children.clear();
}

/** Where the lines go: pretty in development; JSON written asynchronously (buffered, flushed at exit) otherwise. */
function output(): pino.DestinationStream {
  destination ??= (logSettings().format === 'pretty' ? prettyStream() : undefined) ?? pino.destination({ sync: false });
  return destination;
}

/** The process's logger (made on first use from LOG_LEVEL and LOG_FORMAT). */
export function rootLogger(): Logger {
  root ??= pino(loggerOptions(), output());
  return root;
}

/**
 * The request log's logger (api/http-log.ts): one line per request, so it skips the general masking pass over every
 * field — its fields are its own (the path is masked by its serializer, no header or body is logged).
 */
export function httpLogger(): Logger {
  http ??= pino(
    {
      level: logSettings().level,
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid, component: 'http' },
      formatters: { level: (label) => ({ level: label }) },
    },
    output(),
  );
  return http;
}

/** The logger of one component (the same object each time: a test may watch it). */
export function logger(component: string): Logger {
  let l = children.get(component);
  if (!l) {
    l = rootLogger().child({ component });
    children.set(component, l);
  }
  return l;
}

/** An error as a log field: its message and, for a programming error, its stack. */
export const errorField = (e: unknown) => (e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) });
