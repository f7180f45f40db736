/**
 * P7 (个人信用信息征集和使用管理办法 第七条): the platform must never collect ethnicity, family background,
 * religion, genes, fingerprints, blood type, diseases or medical history. A batch carrying any of them — under any
 * field name or alias, in English or Chinese, or as a statement in a value ("血型：A型", "religion: Buddhist") — is
 * rejected whole. The words are in domain/forbidden-vocabulary.ts.
 */
import { FORBIDDEN_VOCABULARY, TRAD_TO_SIMP, type ForbiddenCategory } from './forbidden-vocabulary';

export type ForbiddenKind = ForbiddenCategory;
export const FORBIDDEN_PERSONAL_DATA: ForbiddenKind[] = FORBIDDEN_VOCABULARY;

const ZERO_WIDTH = /[\u200b-\u200d\ufeff\u2060\u00ad]/g;
const TRAD = new RegExp(`[${Object.keys(TRAD_TO_SIMP).join('')}]`, 'g');

/** NFKC, zero-width characters removed, traditional forms of the listed words simplified, lower case. */
export function normalizeForP7(text: string): string {
  return text
    .normalize('NFKC')
    .replace(ZERO_WIDTH, '')
    .replace(TRAD, (c) => TRAD_TO_SIMP[c])
    .toLowerCase();
}

// ---- field names -------------------------------------------------------------------------------------------

// A batch repeats the same few field names on every row: remember the verdicts (bounded, since names come from
// clients).
const verdicts = new Map<string, ForbiddenKind | null>();
const MAX_VERDICTS = 10_000;

/** The forbidden kind a field name stands for, or null. */
export function forbiddenKindOfField(fieldName: string): ForbiddenKind | null {
  const known = verdicts.get(fieldName);
  if (known !== undefined) return known;
  const kind = judgeFieldName(fieldName);
  if (verdicts.size < MAX_VERDICTS) verdicts.set(fieldName, kind);
  return kind;
}

function judgeFieldName(fieldName: string): ForbiddenKind | null {
  const n = normalizeForP7(fieldName).replace(/[\s_\-.:/\\]+/g, '');
  const words = camelWords(fieldName.normalize('NFKC').replace(ZERO_WIDTH, ''));
  for (const kind of FORBIDDEN_VOCABULARY) {
    if (kind.names.some((a) => n.includes(a))) return kind;
    if (kind.nameWords.some((w) => n === w || words.includes(w))) return kind;
  }
  return null;
}

/** "DNASequence" → dna, sequence; "hiv_status" → hiv, status; "bloodType" → blood, type. */
function camelWords(name: string): string[] {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

// ---- values: labelled statements ---------------------------------------------------------------------------

/**
 * Chinese labels that are also everyday words (中华民族是…, 我们的信仰是诚信, 以疾病为由): they make a statement only
 * where a label can begin — the start of the text, after punctuation or a space, or after 其/人/者/员 (当事人民族：汉).
 */
const WEAK_ZH = new Set(['民族', '种族', '宗教', '信仰', '出身', '基因', '疾病', '诊断', '病情', '病症', '病历', '染色体']);
/** English labels that are everyday words ("Infectious Disease: …"): only at the start or after punctuation. */
const WEAK_EN = new Set(['race', 'nationality', 'faith', 'creed', 'gene', 'dna', 'disease', 'illness', 'diagnosis']);

const VALUE = String.raw`(?=[^\s:=∶,.;!?，。；、！？()\[\]【】"“”'‘’《》<>|/\\-])`;
const SEP_COLON = String.raw`\s*[:=∶]\s*`;
const SEP_ZH = String.raw`\s*(?:[:=∶]|是(?!否)|为)\s*`;
const ZH_START = String.raw`(?<=^|[^\p{L}\p{N}]|[其人者员])`;
const EN_START = String.raw`(?<![a-z0-9])`;
const EN_WEAK_START = String.raw`(?<![a-z0-9]\s*)`;

const alt = (words: string[]) =>
  [...words]
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, String.raw`[\s_-]*`))
    .join('|');

function statementPattern(kind: ForbiddenKind): RegExp {
  const strongZh = kind.statementLabelsZh.filter((w) => !WEAK_ZH.has(w));
  const weakZh = kind.statementLabelsZh.filter((w) => WEAK_ZH.has(w));
  const strongEn = kind.statementLabelsEn.filter((w) => !WEAK_EN.has(w));
  const weakEn = kind.statementLabelsEn.filter((w) => WEAK_EN.has(w));
  const parts: string[] = [];
  if (strongZh.length) parts.push(`(?:${alt(strongZh)})${SEP_ZH}${VALUE}`);
  if (weakZh.length) parts.push(`${ZH_START}(?:${alt(weakZh)})${SEP_ZH}${VALUE}`);
  if (strongEn.length) parts.push(String.raw`${EN_START}(?:${alt(strongEn)})s?${SEP_COLON}${VALUE}`);
  if (weakEn.length) parts.push(String.raw`${EN_WEAK_START}(?:${alt(weakEn)})s?${SEP_COLON}${VALUE}`);
  return new RegExp(parts.join('|'), 'u');
}

/** One precompiled pattern per category, matched against normalized text. */
export const STATEMENT_PATTERNS: ReadonlyArray<{ kind: ForbiddenKind; pattern: RegExp }> = FORBIDDEN_VOCABULARY.map((kind) => ({
  kind,
  pattern: statementPattern(kind),
}));

/** A cheap first look on the raw text: no separator, no statement. */
const MAY_STATE = /[:：﹕︓=＝∶是为為爲]/;

/** The forbidden kind a text gives a person's data of ("血型：A型", "宗教信仰为基督教", "blood type: O"), or null. */
export function forbiddenKindOfText(text: string): ForbiddenKind | null {
  if (text.length < 3 || !MAY_STATE.test(text)) return null;
  const n = normalizeForP7(text);
  for (const { kind, pattern } of STATEMENT_PATTERNS) if (pattern.test(n)) return kind;
  return null;
}

// ---- whole values ------------------------------------------------------------------------------------------

export interface ForbiddenHit {
  path: string;
  kind: ForbiddenKind;
  /** A forbidden field name, or a statement in a string value. */
  where: 'name' | 'value';
}

/**
 * Every forbidden field in a value, at any depth (objects and arrays), with its dotted path, and every string value
 * that states forbidden data. `keys: false` skips the names (a CSV row, whose columns were checked once).
 */
export function findForbiddenFields(value: unknown, base = '', opts: { keys?: boolean } = {}): ForbiddenHit[] {
  const keys = opts.keys ?? true;
  const hits: ForbiddenHit[] = [];
  const visit = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      const kind = forbiddenKindOfText(v);
      if (kind) hits.push({ path: path || '(value)', kind, where: 'value' });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${path}[${i}]`));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, inner] of Object.entries(v as Record<string, unknown>)) {
        const p = path ? `${path}.${key}` : key;
        const kind = keys ? forbiddenKindOfField(key) : null;
        if (kind) hits.push({ path: p, kind, where: 'name' });
        else visit(inner, p);
      }
    }
  };
  visit(value, base);
  return hits;
}

/** The Chinese-first reason of a hit. */
export function forbiddenReason(kind: ForbiddenKind, where: 'name' | 'value'): string {
  return where === 'name'
    ? `禁止采集的个人信息（${kind.labelZh}）/ collecting ${kind.labelEn} is forbidden`
    : `字段值载有禁止采集的个人信息（${kind.labelZh}）/ the value gives a person's ${kind.labelEn}, which must not be collected`;
}

/**
 * Forbidden data outside the known keys of an envelope (a JSON batch's `{period, records}`): a forbidden key beside
 * them is P7, not an unknown key. The records themselves are checked row by row.
 */
export function findForbiddenOutside(value: unknown, known: readonly string[]): ForbiddenHit[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const extra = Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => !known.includes(k)));
  return findForbiddenFields(extra);
}
