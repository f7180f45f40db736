import type { Cadence } from './catalog';

/**
 * Reporting periods (E7, P9): a month by default (`2026-10`), a quarter (`2026-Q3`) or a half-year (`2026-H2`)
 * by agreement with the platform.
 */
export interface Period {
  code: string;
  cadence: Cadence;
  /** First and last day, YYYY-MM-DD. */
  start: string;
  end: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

export function parsePeriod(code: string): Period | null {
  let m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(code);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    return { code, cadence: 'monthly', start: `${y}-${pad(mo)}-01`, end: `${y}-${pad(mo)}-${pad(lastDay(y, mo))}` };
  }
  m = /^(\d{4})-Q([1-4])$/.exec(code);
  if (m) {
    const y = Number(m[1]);
    const q = Number(m[2]);
    const first = (q - 1) * 3 + 1;
    return { code, cadence: 'quarterly', start: `${y}-${pad(first)}-01`, end: `${y}-${pad(first + 2)}-${pad(lastDay(y, first + 2))}` };
  }
  m = /^(\d{4})-H([12])$/.exec(code);
  if (m) {
    const y = Number(m[1]);
    const h = Number(m[2]);
    return { code, cadence: 'half_yearly', start: h === 1 ? `${y}-01-01` : `${y}-07-01`, end: h === 1 ? `${y}-06-30` : `${y}-12-31` };
  }
  return null;
}

export const PERIOD_FORMAT_ZH: Record<Cadence, string> = {
  monthly: '按月报送，报送期格式为 YYYY-MM / monthly: period as YYYY-MM',
  quarterly: '按季报送，报送期格式为 YYYY-Qn / quarterly: period as YYYY-Qn',
  half_yearly: '按半年报送，报送期格式为 YYYY-H1 或 YYYY-H2 / half-yearly: period as YYYY-H1 or YYYY-H2',
};
