import { freshDatabase, type TestDb } from './support/db';
import { CATALOG } from '../domain/catalog';
import {
  addMonths,
  periodBasisSql,
  periodEndSql,
  publicationPeriodEnd,
  NotPublishableError,
  type PeriodInput,
} from '../domain/publication';

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
}, 60000);
afterAll(async () => {
  await t?.close();
});

const base = { defaultYears: null, lawMonths: null, publicationDate: '2026-12-01', validUntil: null, liftedDate: null } satisfies Omit<
  PeriodInput,
  'rule'
>;

describe('E15: the end of a publication period (last public day, inclusive)', () => {
  test('basic information: until the enterprise is terminated (open-ended)', () => {
    expect(publicationPeriodEnd({ ...base, rule: 'until_terminated' })).toEqual({ end: null, basis: 'until_terminated' });
  });
  test('honor: until its validity ends; none given: 3 years from publication (E15.2)', () => {
    expect(publicationPeriodEnd({ ...base, rule: 'validity_or_default', defaultYears: 3, validUntil: '2027-06-30' })).toEqual({
      end: '2027-06-30',
      basis: 'validity',
    });
    expect(publicationPeriodEnd({ ...base, rule: 'validity_or_default', defaultYears: 3 })).toEqual({
      end: '2029-11-30',
      basis: 'default_years',
    });
    expect(publicationPeriodEnd({ ...base, rule: 'validity_or_default', defaultYears: null })).toEqual({
      end: '2029-11-30',
      basis: 'default_years',
    });
  });
  test("warning: until lifted (shown up to the day before); none given: the item's 3 or 5 years (E15.3)", () => {
    expect(publicationPeriodEnd({ ...base, rule: 'until_lifted_or_default', defaultYears: 5, liftedDate: '2027-03-15' })).toEqual({
      end: '2027-03-14',
      basis: 'lifted',
    });
    expect(publicationPeriodEnd({ ...base, rule: 'until_lifted_or_default', defaultYears: 5 })).toEqual({
      end: '2031-11-30',
      basis: 'default_years',
    });
    expect(publicationPeriodEnd({ ...base, rule: 'until_lifted_or_default', defaultYears: 3 })).toEqual({
      end: '2029-11-30',
      basis: 'default_years',
    });
  });
  test('voluntary: until the enterprise asks to stop (E15.4)', () => {
    expect(publicationPeriodEnd({ ...base, rule: 'until_withdrawn' })).toEqual({ end: null, basis: 'until_withdrawn' });
  });
  test("a law's own period overrides every rule (E15.5)", () => {
    expect(publicationPeriodEnd({ ...base, rule: 'validity_or_default', validUntil: '2040-01-01', lawMonths: 6 })).toEqual({
      end: '2027-05-31',
      basis: 'law',
    });
    expect(publicationPeriodEnd({ ...base, rule: 'until_terminated', lawMonths: 24 })).toEqual({ end: '2028-11-30', basis: 'law' });
  });
  test('restricted items (E13) have no publication period', () => {
    expect(() => publicationPeriodEnd({ ...base, rule: 'not_published' })).toThrow(NotPublishableError);
  });
  test('months are added the way PostgreSQL adds them (end of month clamped)', () => {
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2026-11-30', 3)).toBe('2027-02-28');
    expect(addMonths('2026-12-15', 1)).toBe('2027-01-15');
  });
  test('every public enterprise item of the catalog has a rule; every restricted or personal one is never published', () => {
    for (const item of CATALOG) {
      if (item.subjectType === 'enterprise' && item.disclosure === 'public') expect(item.periodRule).not.toBe('not_published');
      else expect(item.periodRule).toBe('not_published');
    }
    const warnings = CATALOG.filter((i) => i.category === 'warning');
    for (const w of warnings) expect([3, 4, 5]).toContain(w.defaultPeriodYears);
  });
});

describe('the SQL rules of the set-based statements agree with the TypeScript rules', () => {
  test('on a grid of rules, dates and overrides, run by PostgreSQL', async () => {
    const cases: PeriodInput[] = [];
    const rules = ['until_terminated', 'validity_or_default', 'until_lifted_or_default', 'until_withdrawn'] as const;
    for (const rule of rules)
      for (const publicationDate of ['2026-12-01', '2024-02-29', '2026-01-31', '2026-12-31'])
        for (const defaultYears of [null, 3, 5])
          for (const lawMonths of [null, 1, 18])
            for (const validUntil of [null, '2027-06-30'])
              for (const liftedDate of [null, '2026-12-01', '2028-01-01'])
                cases.push({ rule, publicationDate, defaultYears, lawMonths, validUntil, liftedDate });
    const cols = {
      rule: 'c.rule',
      defaultYears: 'c.default_years',
      lawMonths: 'c.law_months',
      publicationDate: 'c.publication_date',
      validUntil: 'c.valid_until',
      liftedDate: 'c.lifted_date',
    };
    const { rows } = await t.db.raw(
      `SELECT c.i, ${periodEndSql(cols)}::text AS end, ${periodBasisSql(cols)} AS basis
         FROM jsonb_to_recordset(?::jsonb) AS c(i int, rule text, default_years int, law_months int, publication_date date, valid_until date, lifted_date date)
        ORDER BY c.i`,
      [
        JSON.stringify(
          cases.map((c, i) => ({
            i,
            rule: c.rule,
            default_years: c.defaultYears,
            law_months: c.lawMonths,
            publication_date: c.publicationDate,
            valid_until: c.validUntil,
            lifted_date: c.liftedDate,
          })),
        ),
      ],
    );
    expect(rows).toHaveLength(cases.length);
    const mismatches = cases
      .map((c, i) => ({ c, ts: publicationPeriodEnd(c), sql: { end: rows[i].end as string | null, basis: rows[i].basis as string } }))
      .filter((x) => x.ts.end !== x.sql.end || x.ts.basis !== x.sql.basis);
    expect(mismatches).toEqual([]);
  });
});
