/**
 * Subject identifiers.
 * - Enterprises: 18-character unified social credit code (统一社会信用代码), GB 32100-2015.
 * - Persons: 18-character citizen ID number (公民身份号码), GB 11643-1999 (P9).
 */

const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character of the first 17 characters of a unified social credit code, or null if one is not allowed. */
export function usccCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARSET.indexOf(first17[i]);
    if (v < 0) return null;
    sum += v * USCC_WEIGHTS[i];
  }
  const c = (31 - (sum % 31)) % 31;
  return USCC_CHARSET[c];
}

export type IdCheck = { ok: true } | { ok: false; reason: string };

export function checkUscc(code: string): IdCheck {
  if (typeof code !== 'string' || code.length !== 18) {
    return { ok: false, reason: '统一社会信用代码应为18位 / unified social credit code must have 18 characters' };
  }
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) {
    return {
      ok: false,
      reason:
        '统一社会信用代码含非法字符（不得使用I、O、Z、S、V及小写字母）/ unified social credit code has a character outside GB 32100-2015',
    };
  }
  if (!/^[0-9]{6}$/.test(code.slice(2, 8))) {
    return { ok: false, reason: '统一社会信用代码第3-8位应为行政区划码 / characters 3-8 must be the administrative division code' };
  }
  const expected = usccCheckChar(code.slice(0, 17));
  if (expected !== code[17]) {
    return { ok: false, reason: `统一社会信用代码校验码错误，应为 ${expected} / wrong check character, expected ${expected}` };
  }
  return { ok: true };
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** The check character of the first 17 digits of a citizen ID number, or null if they are not digits. */
export function citizenIdCheckChar(first17: string): string | null {
  if (!/^[0-9]{17}$/.test(first17)) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

export function checkCitizenId(id: string): IdCheck {
  if (typeof id !== 'string' || id.length !== 18) {
    return { ok: false, reason: '公民身份号码应为18位 / citizen ID number must have 18 characters' };
  }
  if (!/^[0-9]{17}[0-9X]$/.test(id)) {
    return { ok: false, reason: '公民身份号码格式错误（前17位为数字，末位为数字或大写X）/ citizen ID must be 17 digits and a digit or X' };
  }
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) {
    return { ok: false, reason: '公民身份号码出生日期无效 / citizen ID has an invalid birth date' };
  }
  const expected = citizenIdCheckChar(id.slice(0, 17));
  if (expected !== id[17]) {
    return { ok: false, reason: `公民身份号码校验码错误，应为 ${expected} / wrong check digit, expected ${expected}` };
  }
  return { ok: true };
}

/** Builds a valid unified social credit code from a 17-character stem (tests, seeds, benchmarks). */
export function withUsccCheck(first17: string): string {
  const c = usccCheckChar(first17);
  if (!c) throw new Error(`not a valid USCC stem: ${first17}`);
  return first17 + c;
}

/** Builds a valid citizen ID number from 17 digits (tests, seeds, benchmarks). */
export function withCitizenIdCheck(first17: string): string {
  const c = citizenIdCheckChar(first17);
  if (!c) throw new Error(`not a valid citizen ID stem: ${first17}`);
  return first17 + c;
}
