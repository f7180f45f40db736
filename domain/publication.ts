/**
 * Publication rules (发布, E11–E15), pure. Which records are public, and when each publication period ends.
 *
 * A publication period is counted from the publication date (E15, second-last paragraph). `end` is the LAST day a
 * record is public (inclusive); the daily sweep unpublishes it on the day after and keeps it as an archive record
 * (E15, last paragraph). `null` means open-ended: basic information until the enterprise is terminated (E15.1),
 * a voluntary disclosure until the enterprise asks to stop (E15.4).
 *
 * The same rules exist twice, once here for callers in TypeScript and once as SQL (`periodEndSql`) for the
 * set-based statements that publish and sweep millions of rows; a test runs both on the same cases.
 */
import type { PeriodRule } from './catalog';
import { TERMINATED_ENTERPRISE_STATUSES } from './catalog';
import { addCalendarDays } from './calendar';

/** Enterprise categories published automatically after receipt (E12.1–3); `voluntary` needs staff approval (E12.4). */
export const AUTO_PUBLISHED_CATEGORIES = ['basic', 'honor', 'warning'] as const;

/** Default years of E15.2 (honor without validity) and of E15.3 when the catalog item names none. */
export const DEFAULT_PERIOD_YEARS = 3;

export const PERIOD_BASES = ['law', 'validity', 'default_years', 'lifted', 'until_terminated', 'until_withdrawn'] as const;
export type PeriodBasis = (typeof PERIOD_BASES)[number];

export const PERIOD_BASIS_ZH: Record<PeriodBasis, string> = {
  law: '法律、法规规定的期限（E15.5）',
  validity: '至有效期届满（E15.2）',
  default_years: '自发布之日起计算的默认期限（E15.2、E15.3）',
  lifted: '至警示解除日（E15.3）',
  until_terminated: '至企业终止（E15.1）',
  until_withdrawn: '至企业要求终止公示（E15.4）',
};

export interface PeriodInput {
  rule: PeriodRule;
  /** The catalog item's default years (E15.3: 3 to 5; E15.2: 3). */
  defaultYears: number | null;
  /** A law's own period for the item, in months (E15.5), when one is recorded. */
  lawMonths: number | null;
  /** Shanghai date of publication, YYYY-MM-DD. */
  publicationDate: string;
  validUntil: string | null;
  liftedDate: string | null;
}

export interface PeriodEnd {
  end: string | null;
  basis: PeriodBasis;
}

export class NotPublishableError extends Error {
  constructor(rule: string) {
    super(`规则 ${rule} 的信息不公开发布（E13）/ items of rule ${rule} are never published`);
  }
}

/**
 * `date` plus whole months, the way PostgreSQL adds an interval to a date: the day of month is kept, or clamped
 * to the month's last day (2024-02-29 + 12 months = 2025-02-28).
 */
export function addMonths(date: string, months: number): string {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7)) - 1 + months;
  const d = Number(date.slice(8, 10));
  const ty = y + Math.floor(m / 12);
  const tm = ((m % 12) + 12) % 12;
  const last = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
  return `${String(ty).padStart(4, '0')}-${String(tm + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** The last public day of a period of `months` that starts on `from`: 3 years from 2026-12-01 → 2029-11-30. */
function lastDayOf(from: string, months: number): string {
  return addCalendarDays(addMonths(from, months), -1);
}

/** The end of a record's publication period (E15). */
export function publicationPeriodEnd(i: PeriodInput): PeriodEnd {
  if (i.rule === 'not_published') throw new NotPublishableError(i.rule);
  if (i.lawMonths !== null) return { end: lastDayOf(i.publicationDate, i.lawMonths), basis: 'law' };
  const defaultEnd = (): PeriodEnd => ({
    end: lastDayOf(i.publicationDate, 12 * (i.defaultYears ?? DEFAULT_PERIOD_YEARS)),
    basis: 'default_years',
  });
  switch (i.rule) {
    case 'until_terminated':
      return { end: null, basis: 'until_terminated' };
    case 'until_withdrawn':
      return { end: null, basis: 'until_withdrawn' };
    case 'validity_or_default':
      return i.validUntil ? { end: i.validUntil, basis: 'validity' } : defaultEnd();
    case 'until_lifted_or_default':
      // Lifted on that day: the day before is the last one the warning is shown.
      return i.liftedDate ? { end: addCalendarDays(i.liftedDate, -1), basis: 'lifted' } : defaultEnd();
  }
}

/** Column references the SQL rules read (qualified names or expressions). */
export interface PeriodSqlColumns {
  rule: string;
  defaultYears: string;
  lawMonths: string;
  publicationDate: string;
  validUntil: string;
  liftedDate: string;
}

/** `publicationPeriodEnd(...).end` as a SQL expression of type date (NULL: open-ended). */
export function periodEndSql(c: PeriodSqlColumns): string {
  const lastDay = (months: string) => `(((${c.publicationDate})::date + make_interval(months => ${months}))::date - 1)`;
  const defaultEnd = lastDay(`12 * coalesce(${c.defaultYears}, ${DEFAULT_PERIOD_YEARS})`);
  return `(CASE
    WHEN ${c.lawMonths} IS NOT NULL THEN ${lastDay(c.lawMonths)}
    WHEN ${c.rule} = 'validity_or_default' THEN coalesce(${c.validUntil}, ${defaultEnd})
    WHEN ${c.rule} = 'until_lifted_or_default' THEN coalesce(${c.liftedDate} - 1, ${defaultEnd})
    ELSE NULL::date END)`;
}

/** `publicationPeriodEnd(...).basis` as a SQL expression of type text. */
export function periodBasisSql(c: PeriodSqlColumns): string {
  return `(CASE
    WHEN ${c.lawMonths} IS NOT NULL THEN 'law'
    WHEN ${c.rule} = 'validity_or_default' THEN CASE WHEN ${c.validUntil} IS NOT NULL THEN 'validity' ELSE 'default_years' END
    WHEN ${c.rule} = 'until_lifted_or_default' THEN CASE WHEN ${c.liftedDate} IS NOT NULL THEN 'lifted' ELSE 'default_years' END
    WHEN ${c.rule} = 'until_withdrawn' THEN 'until_withdrawn'
    ELSE 'until_terminated' END)`;
}

/** SQL list literal of the enterprise states that end the publication of basic information (E15.1). */
export const TERMINATED_STATUSES_SQL = TERMINATED_ENTERPRISE_STATUSES.map((s) => `'${s}'`).join(', ');

/** Publication states of a record (one row per record key in `publications`). */
export const PUBLICATION_STATES = ['pending', 'held', 'published', 'rejected', 'cancelled', 'archived'] as const;
export type PublicationState = (typeof PUBLICATION_STATES)[number];

export const PUBLICATION_STATE_ZH: Record<PublicationState, string> = {
  pending: '待发布',
  held: '暂缓发布（审核中）',
  published: '已公开发布',
  rejected: '经审核不予发布',
  cancelled: '发布前已撤回',
  archived: '已解除公开发布，转为长期保存',
};

/** Why a published record was unpublished. */
export const ARCHIVE_REASONS = ['period_ended', 'enterprise_terminated', 'retracted'] as const;
export type ArchiveReason = (typeof ARCHIVE_REASONS)[number];

/** Voluntary disclosures (E12.4, E15.4). */
export const VOLUNTARY_STATES = ['submitted', 'approved', 'rejected', 'withdrawn'] as const;
export type VoluntaryState = (typeof VOLUNTARY_STATES)[number];
