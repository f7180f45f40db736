/**
 * The vocabulary of P7 (个人信用信息征集和使用管理办法 第七条): what the platform must never collect — ethnicity, family
 * background, religion, genes, fingerprints, blood type, diseases and medical history. One table, published as it is
 * at GET /catalog/forbidden-personal-data, used by domain/forbidden.ts for field names and for values.
 *
 * All words are written normalized: NFKC, lower case, simplified Chinese (TRAD_TO_SIMP turns the traditional forms
 * of these words into these), without spaces, '_', '-', '.' for field names.
 */

export interface ForbiddenCategory {
  kind: string;
  labelZh: string;
  labelEn: string;
  article: 'P7';
  /** Field-name aliases: matched as a part of the normalized name (Chinese and long English words). */
  names: string[];
  /** Short or common English words matched only as a whole word of a field name ("race" does not hit "trace"). */
  nameWords: string[];
  /**
   * Labels of a statement that gives a person's data in a value: the label, then a colon (':' '：' '='), or, for
   * Chinese labels, 是/为, then a value ("血型：A型", "宗教信仰为基督教", "blood type: O").
   */
  statementLabelsZh: string[];
  statementLabelsEn: string[];
}

export const P7_ARTICLE = 'P7' as const;

/*
 * nationality / 国籍: in law, 国籍 is citizenship, not ethnicity (民族), and P7 does not forbid it. But the English word
 * "nationality" is the usual rendering of 民族 in Chinese official English (中国各民族 "the nationalities of China", the
 * former "State Nationalities Affairs Commission"); a provider's column called `nationality` most likely carries 民族,
 * and the measured issue expects it refused. So `nationality` counts as an ethnicity alias (name and statement label),
 * while 国籍 and `citizenship`, which cannot mean ethnicity, are left alone.
 */
export const FORBIDDEN_VOCABULARY: ForbiddenCategory[] = [
  {
    kind: 'ethnicity',
    labelZh: '民族',
    labelEn: 'ethnicity',
    article: P7_ARTICLE,
    names: ['民族', '族别', '种族', '族裔', 'ethnicity', 'ethnicgroup', 'nationality', 'minzu', 'zhongzu'],
    nameWords: ['ethnic', 'race', 'racial'],
    statementLabelsZh: ['民族成分', '民族', '族别', '种族', '族裔'],
    statementLabelsEn: ['ethnicity', 'ethnic group', 'ethnic origin', 'race', 'nationality'],
  },
  {
    kind: 'family_background',
    labelZh: '家庭出身',
    labelEn: 'family background',
    article: P7_ARTICLE,
    names: [
      '家庭出身',
      '家庭成分',
      '家庭成份',
      '家庭背景',
      '出身',
      'familybackground',
      'familyorigin',
      'classbackground',
      'familystatus',
      'jiatingchushen',
    ],
    nameWords: [],
    statementLabelsZh: ['家庭出身', '家庭成分', '家庭成份', '家庭背景', '出身'],
    statementLabelsEn: ['family background', 'family origin', 'class background'],
  },
  {
    kind: 'religion',
    labelZh: '宗教信仰',
    labelEn: 'religion',
    article: P7_ARTICLE,
    names: ['宗教', '信仰', '教派', 'religion', 'religious', 'zongjiao'],
    nameWords: ['faith', 'belief', 'creed'],
    statementLabelsZh: ['宗教信仰', '宗教', '信仰', '教派'],
    statementLabelsEn: ['religion', 'religious belief', 'religious affiliation', 'faith', 'creed'],
  },
  {
    kind: 'genes',
    labelZh: '基因',
    labelEn: 'genes',
    article: P7_ARTICLE,
    names: ['基因', '遗传', '染色体', 'genetic', 'genome', 'genotype', 'dnasequence', 'jiyin'],
    nameWords: ['gene', 'genes', 'dna'],
    statementLabelsZh: ['基因型', '基因信息', '基因序列', '基因', '遗传信息', '遗传病', '染色体'],
    statementLabelsEn: ['genotype', 'genetic information', 'genetic data', 'dna', 'dna sequence', 'gene'],
  },
  {
    kind: 'fingerprints',
    labelZh: '指纹',
    labelEn: 'fingerprints',
    article: P7_ARTICLE,
    names: ['指纹', 'fingerprint', 'fingermark', 'zhiwen'],
    nameWords: [],
    statementLabelsZh: ['指纹信息', '指纹特征', '指纹'],
    statementLabelsEn: ['fingerprints', 'fingerprint'],
  },
  {
    kind: 'blood_type',
    labelZh: '血型',
    labelEn: 'blood type',
    article: P7_ARTICLE,
    names: ['血型', 'bloodtype', 'bloodgroup', 'xuexing'],
    nameWords: ['blood'],
    statementLabelsZh: ['血型'],
    statementLabelsEn: ['blood type', 'blood group'],
  },
  {
    kind: 'disease_medical_history',
    labelZh: '疾病和病史',
    labelEn: 'diseases and medical history',
    article: P7_ARTICLE,
    names: [
      '疾病',
      '病史',
      '病历',
      '病情',
      '病症',
      '诊断',
      '既往史',
      '健康状况',
      '健康状态',
      '身体状况',
      '身体状态',
      '患病',
      'disease',
      'illness',
      'sickness',
      'medicalhistory',
      'medicalrecord',
      'medicalcondition',
      'diagnosis',
      'healthcondition',
      'healthstatus',
      'hivstatus',
      'jibing',
      'bingshi',
    ],
    nameWords: ['hiv'],
    statementLabelsZh: [
      '既往病史',
      '既往史',
      '病史',
      '病历',
      '病情',
      '病症',
      '疾病',
      '诊断',
      '健康状况',
      '健康状态',
      '身体状况',
      '身体状态',
    ],
    statementLabelsEn: [
      'medical history',
      'medical record',
      'medical condition',
      'health condition',
      'health status',
      'hiv status',
      'disease',
      'illness',
      'diagnosis',
    ],
  },
];

/**
 * Traditional forms of the characters of the listed words (and of 为) → simplified. Applied to names and values
 * before matching, so 指紋, 病歷, 遺傳信息, 健康狀況, 種族 and "宗教信仰為…" are caught.
 */
export const TRAD_TO_SIMP: Record<string, string> = {
  種: '种',
  遺: '遗',
  傳: '传',
  紋: '纹',
  歷: '历',
  曆: '历',
  診: '诊',
  斷: '断',
  狀: '状',
  況: '况',
  態: '态',
  體: '体',
  為: '为',
  爲: '为',
  資: '资',
  訊: '讯',
  別: '别',
  癥: '症',
  錄: '录',
  記: '记',
};
