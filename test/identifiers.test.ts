import { checkCitizenId, checkUscc, citizenIdCheckChar, usccCheckChar } from '../domain/identifiers';
import { findForbiddenFields, forbiddenKindOfField } from '../domain/forbidden';
import { parsePeriod } from '../domain/periods';

describe('unified social credit code (GB 32100-2015)', () => {
  test.each(['91350100M000100Y43', '91110000802100433B', '91440300708461136T'])('accepts the real code %s', (code) => {
    expect(checkUscc(code)).toEqual({ ok: true });
  });
  test('computes the check character', () => {
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
    expect(usccCheckChar('9111000080210043')).toBeNull();
  });
  test.each([
    ['91350100M000100Y44', /校验码/],
    ['91350100M000100Y4', /18位/],
    ['91350100M0001O0Y43', /非法字符/],
    ['9135010oM000100Y43', /非法字符/],
    ['913501A0M000100Y43', /行政区划/],
  ])('rejects %s', (code, reason) => {
    const r = checkUscc(code);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});

describe('citizen ID number (GB 11643-1999, P9)', () => {
  test('accepts a valid number, including the X check character', () => {
    expect(citizenIdCheckChar('11010519491231002')).toBe('X');
    expect(checkCitizenId('11010519491231002X')).toEqual({ ok: true });
    expect(checkCitizenId('440524198001010013')).toEqual({ ok: true });
  });
  test.each([
    ['110105194912310021', /校验码/],
    ['11010519491231002x', /格式/],
    ['110105194913310025', /出生日期/],
    ['1101051949123100', /18位/],
  ])('rejects %s', (id, reason) => {
    const r = checkCitizenId(id);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});

describe('forbidden personal data (P7)', () => {
  test.each([
    ['ethnicity', 'ethnicity'],
    ['民族', 'ethnicity'],
    ['Race', 'ethnicity'],
    ['family_background', 'family_background'],
    ['家庭出身', 'family_background'],
    ['religiousBelief', 'religion'],
    ['宗教信仰', 'religion'],
    ['DNA', 'genes'],
    ['gene_sequence', 'genes'],
    ['基因检测', 'genes'],
    ['fingerprint_template', 'fingerprints'],
    ['指纹', 'fingerprints'],
    ['blood-type', 'blood_type'],
    ['BloodGroup', 'blood_type'],
    ['血型', 'blood_type'],
    ['disease', 'disease_medical_history'],
    ['medicalHistory', 'disease_medical_history'],
    ['既往病史', 'disease_medical_history'],
  ])('%s is %s', (name, kind) => {
    expect(forbiddenKindOfField(name)?.kind).toBe(kind);
  });
  test.each(['trace_id', 'amount', 'medical_institution_level', 'general_manager', 'decision_no', 'creditLimit'])(
    '%s is allowed',
    (name) => {
      expect(forbiddenKindOfField(name)).toBeNull();
    },
  );
  test('finds forbidden keys at any depth, with their path', () => {
    expect(findForbiddenFields({ a: 1, payload: { list: [{ ok: 1 }, { 血型: 'A' }] } }).map((h) => h.path)).toEqual([
      'payload.list[1].血型',
    ]);
  });
});

describe('reporting periods (E7, P9)', () => {
  test('months, quarters and half-years', () => {
    expect(parsePeriod('2026-02')).toEqual({ code: '2026-02', cadence: 'monthly', start: '2026-02-01', end: '2026-02-28' });
    expect(parsePeriod('2024-02')?.end).toBe('2024-02-29');
    expect(parsePeriod('2026-Q3')).toEqual({ code: '2026-Q3', cadence: 'quarterly', start: '2026-07-01', end: '2026-09-30' });
    expect(parsePeriod('2026-H2')).toEqual({ code: '2026-H2', cadence: 'half_yearly', start: '2026-07-01', end: '2026-12-31' });
    expect(parsePeriod('2026-13')).toBeNull();
    expect(parsePeriod('2026-Q5')).toBeNull();
  });
});
