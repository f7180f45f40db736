import type { Knex } from 'knex';

/**
 * How instants are written inside the platform (workflow inputs, activity results, audit details): ISO 8601 in UTC with
 * milliseconds (`2026-12-01T02:00:00.000Z`). Dates (`YYYY-MM-DD`, Asia/Shanghai) are plain strings and need no
 * formatting. The one home of time formatting: SQL columns through `isoColumn`/`isoSql`, values in the application
 * through `isoInstant`; on the way out of the API every such instant is shown in Beijing time (`beijingIso`,
 * `2026-12-01T10:00:00.000+08:00`, api/app.ts), the time the users read.
 */
export type Conn = Knex | Knex.Transaction;

/** The SQL expression of a timestamptz column as an ISO string (`col AS alias` not included). */
export const isoSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A select column: the timestamptz `column` as an ISO string named `alias` (by default the column's own name). */
export const isoColumn = (db: Conn, column: string, alias = column.split('.').pop()!) => db.raw(`${isoSql(column)} as ??`, [alias]);

/** A timestamp read by the driver (Date or string) as an ISO string; null stays null. */
export const isoInstant = (v: unknown): string | null =>
  v === null || v === undefined || v === '' ? null : new Date(v as string | Date).toISOString();

const BEIJING_OFFSET_MS = 8 * 3600_000;
/** An instant as ISO 8601 in Beijing time, `2026-12-01T10:00:00.000+08:00` (mainland China keeps +08:00 all year). */
export const beijingIso = (d: Date): string => `${new Date(d.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, -1)}+08:00`;

const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/**
 * A JSON replacer for the API's answers: every instant written as above (and every Date) is shown in Beijing time;
 * any other value passes unchanged.
 */
export function beijingInstants(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.length === 24 && value.charCodeAt(23) === 90 /* Z */ && UTC_INSTANT.test(value)
    ? beijingIso(new Date(value))
    : value;
}
