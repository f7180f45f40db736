/**
 * P7 (个人信用信息征集和使用管理办法 第七条): the platform must never collect ethnicity, family background,
 * religion, genes, fingerprints, blood type, diseases or medical history. A batch carrying any of them, under any
 * field name or alias, in English or Chinese, is rejected whole.
 */

export interface ForbiddenKind {
  kind: string;
  labelZh: string;
  /** Normalized aliases (lower case, without spaces, '_', '-', '.'); matched as the whole name or a part of it. */
  aliases: string[];
}

export const FORBIDDEN_PERSONAL_DATA: ForbiddenKind[] = [
  { kind: 'ethnicity', labelZh: '民族', aliases: ['民族', '族别', 'ethnicity', 'ethnic', 'ethnicgroup', 'race', 'minzu'] },
  {
    kind: 'family_background',
    labelZh: '家庭出身',
    aliases: ['家庭出身', '家庭成分', '出身', 'familybackground', 'familyorigin', 'classbackground', 'familystatus', 'jiatingchushen'],
  },
  { kind: 'religion', labelZh: '宗教信仰', aliases: ['宗教', '信仰', 'religion', 'religious', 'faith', 'belief', 'creed', 'zongjiao'] },
  { kind: 'genes', labelZh: '基因', aliases: ['基因', 'gene', 'genes', 'genetic', 'genome', 'genotype', 'dna', 'jiyin'] },
  { kind: 'fingerprints', labelZh: '指纹', aliases: ['指纹', 'fingerprint', 'fingerprints', 'fingermark', 'zhiwen'] },
  { kind: 'blood_type', labelZh: '血型', aliases: ['血型', 'bloodtype', 'bloodgroup', 'blood', 'xuexing'] },
  {
    kind: 'disease_medical_history',
    labelZh: '疾病和病史',
    aliases: [
      '疾病',
      '病史',
      '病历',
      '病情',
      '诊断',
      '既往史',
      'disease',
      'diseases',
      'illness',
      'sickness',
      'medicalhistory',
      'medicalrecord',
      'diagnosis',
      'healthcondition',
      'healthstatus',
      'jibing',
      'bingshi',
    ],
  },
];

function normalize(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-.:/\\]+/g, '');
}

/** Short ASCII aliases match only whole words (so "race" does not hit "trace", "dna" not "dnaxxx"-like words). */
const WORD_ONLY = new Set(['race', 'dna', 'gene', 'genes', 'faith', 'blood', 'ethnic', 'belief', 'creed']);

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
  const n = normalize(fieldName);
  const words = camelWords(fieldName.normalize('NFKC'));
  for (const kind of FORBIDDEN_PERSONAL_DATA) {
    for (const alias of kind.aliases) {
      if (WORD_ONLY.has(alias)) {
        if (n === alias || words.includes(alias)) return kind;
      } else if (n.includes(alias)) {
        return kind;
      }
    }
  }
  return null;
}

function camelWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export interface ForbiddenHit {
  path: string;
  kind: ForbiddenKind;
}

/** Every forbidden field in a value, at any depth (objects and arrays), with its dotted path. */
export function findForbiddenFields(value: unknown, base = ''): ForbiddenHit[] {
  const hits: ForbiddenHit[] = [];
  const visit = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${path}[${i}]`));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, inner] of Object.entries(v as Record<string, unknown>)) {
        const p = path ? `${path}.${key}` : key;
        const kind = forbiddenKindOfField(key);
        if (kind) hits.push({ path: p, kind });
        visit(inner, p);
      }
    }
  };
  visit(value, base);
  return hits;
}
