import type { Knex } from 'knex';

/**
 * How instants leave the platform: ISO 8601 in UTC with milliseconds (`2026-12-01T02:00:00.000Z`), which every
 * browser and client parses. Dates (`YYYY-MM-DD`, Asia/Shanghai) are plain strings and need no formatting. The one
 * home of time formatting: SQL columns through `isoColumn`/`isoSql`, values in the application through `isoInstant`.
 */
export type Conn = Knex | Knex.Transaction;

/** The SQL expression of a timestamptz column as an ISO string (`col AS alias` not included). */
export const isoSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A select column: the timestamptz `column` as an ISO string named `alias` (by default the column's own name). */
export const isoColumn = (db: Conn, column: string, alias = column.split('.').pop()!) => db.raw(`${isoSql(column)} as ??`, [alias]);

/** A timestamp read by the driver (Date or string) as an ISO string; null stays null. */
export const isoInstant = (v: unknown): string | null =>
  v === null || v === undefined || v === '' ? null : new Date(v as string | Date).toISOString();
