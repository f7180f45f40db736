/**
 * The information catalog (信息目录, P6 last paragraph; E6, E12, E13) and the registry of information providers
 * (E7–E9, P8) loaded into an empty database.
 *
 * Longer than most files: it is seed data, one entry per item and provider of the regulations, read as a table.
 */

export const SUBJECT_TYPES = ['enterprise', 'person'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

/** Enterprise categories: public (E12) and restricted (E13). Person categories (P6). */
export const ENTERPRISE_PUBLIC_CATEGORIES = ['basic', 'honor', 'warning', 'voluntary'] as const;
export const ENTERPRISE_RESTRICTED_CATEGORIES = ['tax', 'financial', 'credit', 'other_restricted'] as const;
export const PERSON_CATEGORIES = ['basic', 'public_credit', 'commercial_credit'] as const;
export const CATEGORIES = [
  ...ENTERPRISE_PUBLIC_CATEGORIES,
  ...ENTERPRISE_RESTRICTED_CATEGORIES,
  'public_credit',
  'commercial_credit',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const DISCLOSURE_LEVELS = ['public', 'restricted', 'personal'] as const;
export type Disclosure = (typeof DISCLOSURE_LEVELS)[number];

/** Publication-period rules of E15. */
export const PERIOD_RULES = [
  'until_terminated',
  'validity_or_default',
  'until_lifted_or_default',
  'until_withdrawn',
  'not_published',
] as const;
export type PeriodRule = (typeof PERIOD_RULES)[number];

export const CADENCES = ['monthly', 'quarterly', 'half_yearly'] as const;
export type Cadence = (typeof CADENCES)[number];

export const FIELD_TYPES = ['string', 'number', 'date', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
  nameZh: string;
  maxLength?: number;
  values?: string[];
}

export interface CatalogItem {
  code: string;
  subjectType: SubjectType;
  category: Category;
  disclosure: Disclosure;
  periodRule: PeriodRule;
  /** Years of publication when the record gives no end of its own (E15: honor 3; warning 3 to 5). */
  defaultPeriodYears: number | null;
  legalBasis: string;
  nameZh: string;
  nameEn: string;
  fields: FieldSpec[];
}

const f = (name: string, nameZh: string, type: FieldType = 'string', required = true, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  nameZh,
  type,
  required,
  maxLength: type === 'string' ? 2000 : undefined,
  ...extra,
});

const ENTERPRISE_STATUS = ['存续', '在业', '迁出', '注销', '吊销', '撤销'];
/** Enterprise states that terminate the enterprise, ending the publication of its basic information (E15.1). */
export const TERMINATED_ENTERPRISE_STATUSES = ['注销', '吊销', '撤销'];

export const CATALOG: CatalogItem[] = [
  // ---- enterprise, public (E12) ----
  {
    code: 'E-BASIC-REG',
    subjectType: 'enterprise',
    category: 'basic',
    disclosure: 'public',
    periodRule: 'until_terminated',
    defaultPeriodYears: null,
    legalBasis: 'E6(1), E12(1), E15(1)',
    nameZh: '企业登记注册基本信息',
    nameEn: 'Enterprise registration',
    fields: [
      f('name', '企业名称'),
      f('legal_representative', '法定代表人'),
      f('registered_capital', '注册资本（万元）', 'number', false),
      f('established_on', '成立日期', 'date'),
      f('address', '住所', 'string', false),
      f('status', '登记状态', 'string', true, { values: ENTERPRISE_STATUS }),
    ],
  },
  {
    code: 'E-HONOR',
    subjectType: 'enterprise',
    category: 'honor',
    disclosure: 'public',
    periodRule: 'validity_or_default',
    defaultPeriodYears: 3,
    legalBasis: 'E12(2), E15(2)',
    nameZh: '企业诚信信息（荣誉、认证、许可、商标等）',
    nameEn: 'Enterprise honors and good-faith records',
    fields: [
      f('title', '名称'),
      f('kind', '类别', 'string', true, {
        values: ['驰名商标', '著名商标', '金融支持', '专项许可', '地理标志保护', '名优产品', '企业标准备案', '认证', '表彰', '其他荣誉'],
      }),
      f('issuer', '授予/认定机关'),
    ],
  },
  {
    code: 'E-PENALTY',
    subjectType: 'enterprise',
    category: 'warning',
    disclosure: 'public',
    periodRule: 'until_lifted_or_default',
    defaultPeriodYears: 3,
    legalBasis: 'E12(3), E15(3)',
    nameZh: '企业行政处罚记录',
    nameEn: 'Administrative penalty',
    fields: [
      f('decision_no', '处罚决定书文号'),
      f('violation', '违法事实'),
      f('penalty', '处罚内容'),
      f('authority', '处罚机关'),
      f('amount', '罚没金额（元）', 'number', false),
    ],
  },
  {
    code: 'E-DISHONEST',
    subjectType: 'enterprise',
    category: 'warning',
    disclosure: 'public',
    periodRule: 'until_lifted_or_default',
    defaultPeriodYears: 5,
    legalBasis: 'E7(1), E12(3), E15(3)',
    nameZh: '失信被执行人（企业）名单信息',
    nameEn: 'Dishonest judgment debtor (enterprise)',
    fields: [
      f('case_no', '案号'),
      f('court', '执行法院'),
      f('obligation', '生效法律文书确定的义务'),
      f('performance', '履行情况', 'string', false),
    ],
  },
  {
    code: 'E-BRIBERY',
    subjectType: 'enterprise',
    category: 'warning',
    disclosure: 'public',
    periodRule: 'until_lifted_or_default',
    defaultPeriodYears: 5,
    legalBasis: 'E7(2), E12(3), E15(3)',
    nameZh: '企业行贿犯罪记录',
    nameEn: 'Bribery conviction (enterprise)',
    fields: [f('case_no', '案号'), f('judgment', '判决内容'), f('court', '判决法院')],
  },
  {
    code: 'E-INSPECTION-FAIL',
    subjectType: 'enterprise',
    category: 'warning',
    disclosure: 'public',
    periodRule: 'until_lifted_or_default',
    defaultPeriodYears: 3,
    legalBasis: 'E12(3), E15(3)',
    nameZh: '未通过依法检验审核记录',
    nameEn: 'Failed statutory inspection',
    fields: [f('inspection', '检验审核事项'), f('result', '结论'), f('authority', '检验机关')],
  },
  {
    code: 'E-VOLUNTARY',
    subjectType: 'enterprise',
    category: 'voluntary',
    disclosure: 'public',
    periodRule: 'until_withdrawn',
    defaultPeriodYears: null,
    legalBasis: 'E12(4), E15(4)',
    nameZh: '企业自愿公示信息',
    nameEn: 'Voluntary disclosure',
    fields: [f('title', '标题'), f('content', '内容')],
  },
  // ---- enterprise, restricted (E13) ----
  {
    code: 'E-TAX',
    subjectType: 'enterprise',
    category: 'tax',
    disclosure: 'restricted',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'E7(22), E13(1)',
    nameZh: '企业纳税信息',
    nameEn: 'Enterprise tax information',
    fields: [
      f('tax_year', '纳税年度', 'number'),
      f('tax_paid', '实缴税额（元）', 'number', false),
      f('rating', '纳税信用等级', 'string', false, { values: ['A', 'B', 'M', 'C', 'D'] }),
      f('violation', '税收违法行为', 'string', false),
    ],
  },
  {
    code: 'E-FINANCIAL',
    subjectType: 'enterprise',
    category: 'financial',
    disclosure: 'restricted',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'E7(15), E13(2)',
    nameZh: '企业资产、负债及经营状况',
    nameEn: 'Assets, liabilities and operations',
    fields: [
      f('report_period', '报告期'),
      f('assets', '资产总额（万元）', 'number'),
      f('liabilities', '负债总额（万元）', 'number'),
      f('equity', '所有者权益（万元）', 'number', false),
      f('revenue', '营业收入（万元）', 'number', false),
    ],
  },
  {
    code: 'E-CREDIT',
    subjectType: 'enterprise',
    category: 'credit',
    disclosure: 'restricted',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'E8, E13(3)',
    nameZh: '企业信贷信息',
    nameEn: 'Enterprise credit (loans)',
    fields: [
      f('lender', '贷款机构'),
      f('amount', '金额（万元）', 'number'),
      f('status', '状态', 'string', true, { values: ['正常', '关注', '次级', '可疑', '损失', '结清'] }),
    ],
  },
  {
    code: 'E-OTHER-RESTRICTED',
    subjectType: 'enterprise',
    category: 'other_restricted',
    disclosure: 'restricted',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'E13(4)',
    nameZh: '其他不宜公开的企业信用信息',
    nameEn: 'Other restricted enterprise information',
    fields: [f('subject', '事项'), f('content', '内容')],
  },
  // ---- person (P6) ----
  {
    code: 'P-BASIC',
    subjectType: 'person',
    category: 'basic',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(1), P8(1)',
    nameZh: '个人基本信息',
    nameEn: 'Personal basic information',
    fields: [
      f('name', '姓名'),
      f('gender', '性别', 'string', false, { values: ['男', '女'] }),
      f('birth_date', '出生日期', 'date', false),
      f('domicile', '户籍所在地住址', 'string', false),
      f('residence', '居所', 'string', false),
      f('employer', '工作单位', 'string', false),
    ],
  },
  {
    code: 'P-PUBLIC-PENALTY',
    subjectType: 'person',
    category: 'public_credit',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(2), P8',
    nameZh: '个人行政处罚及奖惩记录',
    nameEn: 'Administrative penalties and awards (person)',
    fields: [f('decision_no', '决定书文号', 'string', false), f('matter', '事项'), f('result', '处理结果'), f('authority', '作出机关')],
  },
  {
    code: 'P-DISHONEST',
    subjectType: 'person',
    category: 'public_credit',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(2), P8(5)',
    nameZh: '失信被执行人（个人）名单信息',
    nameEn: 'Dishonest judgment debtor (person)',
    fields: [f('case_no', '案号'), f('court', '执行法院'), f('obligation', '生效法律文书确定的义务')],
  },
  {
    code: 'P-TAX-VIOLATION',
    subjectType: 'person',
    category: 'public_credit',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(2), P8(3)',
    nameZh: '个人税收违法行为',
    nameEn: 'Tax violation (person)',
    fields: [
      f('violation', '违法行为', 'string', true, { values: ['偷税', '逃税', '欠税', '抗税', '骗税', '其他'] }),
      f('amount', '涉及金额（元）', 'number', false),
      f('authority', '税务机关'),
    ],
  },
  {
    code: 'P-TRAFFIC',
    subjectType: 'person',
    category: 'public_credit',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(2), P8(1)',
    nameZh: '车辆违规及事故记录',
    nameEn: 'Traffic violations and accidents',
    fields: [f('plate', '号牌号码', 'string', false), f('matter', '事项'), f('result', '处理结果')],
  },
  {
    code: 'P-UTILITY-ARREARS',
    subjectType: 'person',
    category: 'commercial_credit',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(3), P8(4)',
    nameZh: '公用事业欠费记录',
    nameEn: 'Utility arrears',
    fields: [
      f('utility', '服务类别', 'string', true, { values: ['水', '电', '燃气', '广电', '电信'] }),
      f('amount', '欠费金额（元）', 'number'),
      f('since', '欠费起始日', 'date'),
    ],
  },
  {
    code: 'P-LOAN',
    subjectType: 'person',
    category: 'commercial_credit',
    disclosure: 'personal',
    periodRule: 'not_published',
    defaultPeriodYears: null,
    legalBasis: 'P6(3)',
    nameZh: '个人信贷及担保信息',
    nameEn: 'Personal loans and guarantees',
    fields: [
      f('lender', '机构'),
      f('kind', '类别', 'string', true, { values: ['贷款', '担保', '住房公积金贷款'] }),
      f('amount', '金额（元）', 'number'),
      f('status', '状态'),
    ],
  },
];

export type ProviderKind = 'administrative' | 'judicial' | 'vertical' | 'industry_association' | 'intermediary' | 'utility';

export interface ProviderSeed {
  code: string;
  nameZh: string;
  nameEn: string;
  kind: ProviderKind;
  legalBasis: string;
  items: string[];
}

const ENT_COMMON = ['E-HONOR', 'E-PENALTY', 'E-INSPECTION-FAIL'];

export const PROVIDERS: ProviderSeed[] = [
  {
    code: 'QZ-COURT',
    nameZh: '钦州市中级人民法院',
    nameEn: "Qinzhou Intermediate People's Court",
    kind: 'judicial',
    legalBasis: 'E7(1), P8(5)',
    items: ['E-DISHONEST', 'P-DISHONEST'],
  },
  {
    code: 'QZ-PROCURATORATE',
    nameZh: '钦州市人民检察院',
    nameEn: "Qinzhou People's Procuratorate",
    kind: 'judicial',
    legalBasis: 'E7(2), P8(6)',
    items: ['E-BRIBERY', 'P-PUBLIC-PENALTY'],
  },
  {
    code: 'QZ-GXJ',
    nameZh: '钦州市工业和信息化局',
    nameEn: 'Industry and Information Technology Bureau',
    kind: 'administrative',
    legalBasis: 'E7(3)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-KJJ',
    nameZh: '钦州市科学技术局',
    nameEn: 'Science and Technology Bureau',
    kind: 'administrative',
    legalBasis: 'E7(4)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-MZJ',
    nameZh: '钦州市民政局',
    nameEn: 'Civil Affairs Bureau',
    kind: 'administrative',
    legalBasis: 'E7(5)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-RSJ',
    nameZh: '钦州市人力资源和社会保障局',
    nameEn: 'Human Resources and Social Security Bureau',
    kind: 'administrative',
    legalBasis: 'E7(6)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-GTJ',
    nameZh: '钦州市国土资源局',
    nameEn: 'Land and Resources Bureau',
    kind: 'administrative',
    legalBasis: 'E7(7)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-HBJ',
    nameZh: '钦州市环境保护局',
    nameEn: 'Environmental Protection Bureau',
    kind: 'administrative',
    legalBasis: 'E7(8)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-ZJJ',
    nameZh: '钦州市住房和城乡建设局',
    nameEn: 'Housing and Urban-Rural Development Bureau',
    kind: 'administrative',
    legalBasis: 'E7(9)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-JTJ',
    nameZh: '钦州市交通运输局',
    nameEn: 'Transport Bureau',
    kind: 'administrative',
    legalBasis: 'E7(10)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-GAJ',
    nameZh: '钦州市公安局（含交警）',
    nameEn: 'Public Security Bureau (incl. traffic police)',
    kind: 'administrative',
    legalBasis: 'E7(10), P8(1)',
    items: [...ENT_COMMON, 'P-BASIC', 'P-TRAFFIC', 'P-PUBLIC-PENALTY'],
  },
  { code: 'QZ-NYJ', nameZh: '钦州市农业局', nameEn: 'Agriculture Bureau', kind: 'administrative', legalBasis: 'E7(11)', items: ENT_COMMON },
  { code: 'QZ-LYJ', nameZh: '钦州市林业局', nameEn: 'Forestry Bureau', kind: 'administrative', legalBasis: 'E7(11)', items: ENT_COMMON },
  { code: 'QZ-SWJ', nameZh: '钦州市商务局', nameEn: 'Commerce Bureau', kind: 'administrative', legalBasis: 'E7(12)', items: ENT_COMMON },
  {
    code: 'QZ-WHJ',
    nameZh: '钦州市文化新闻出版广电局',
    nameEn: 'Culture Bureau',
    kind: 'administrative',
    legalBasis: 'E7(13)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-WJW',
    nameZh: '钦州市卫生和计划生育委员会',
    nameEn: 'Health and Family Planning Commission',
    kind: 'administrative',
    legalBasis: 'E7(14)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-TJJ',
    nameZh: '钦州市统计局',
    nameEn: 'Statistics Bureau',
    kind: 'administrative',
    legalBasis: 'E7(15)',
    items: [...ENT_COMMON, 'E-FINANCIAL'],
  },
  {
    code: 'QZ-AJJ',
    nameZh: '钦州市安全生产监督管理局',
    nameEn: 'Work Safety Bureau',
    kind: 'administrative',
    legalBasis: 'E7(16)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-SYJ',
    nameZh: '钦州市食品药品监督管理局',
    nameEn: 'Food and Drug Administration',
    kind: 'administrative',
    legalBasis: 'E7(17)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-GSJ',
    nameZh: '钦州市工商行政管理局',
    nameEn: 'Administration for Industry and Commerce',
    kind: 'administrative',
    legalBasis: 'E7(18), P8(2)',
    items: ['E-BASIC-REG', ...ENT_COMMON, 'P-BASIC', 'P-PUBLIC-PENALTY'],
  },
  {
    code: 'QZ-ZJJ-QS',
    nameZh: '钦州市质量技术监督局',
    nameEn: 'Quality and Technical Supervision Bureau',
    kind: 'administrative',
    legalBasis: 'E7(19)',
    items: ENT_COMMON,
  },
  { code: 'QZ-WJJ', nameZh: '钦州市物价局', nameEn: 'Price Bureau', kind: 'administrative', legalBasis: 'E7(20)', items: ENT_COMMON },
  {
    code: 'QZ-CGZX',
    nameZh: '钦州市政府集中采购中心',
    nameEn: 'Government Procurement Centre',
    kind: 'administrative',
    legalBasis: 'E7(21)',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-TAX',
    nameZh: '钦州市税务局（含稽查局）',
    nameEn: 'Taxation Bureau (incl. inspection)',
    kind: 'administrative',
    legalBasis: 'E7(22), P8(3)',
    items: [...ENT_COMMON, 'E-TAX', 'P-TAX-VIOLATION'],
  },
  {
    code: 'QZ-CUSTOMS',
    nameZh: '钦州海关',
    nameEn: 'Qinzhou Customs',
    kind: 'vertical',
    legalBasis: 'E8',
    items: [...ENT_COMMON, 'E-OTHER-RESTRICTED'],
  },
  {
    code: 'QZ-CIQ',
    nameZh: '钦州出入境检验检疫局',
    nameEn: 'Entry-Exit Inspection and Quarantine Bureau',
    kind: 'vertical',
    legalBasis: 'E8',
    items: ENT_COMMON,
  },
  {
    code: 'QZ-PBOC',
    nameZh: '中国人民银行钦州市中心支行',
    nameEn: "People's Bank of China, Qinzhou branch",
    kind: 'vertical',
    legalBasis: 'E8, P6(3)',
    items: ['E-CREDIT', 'P-LOAN'],
  },
  {
    code: 'QZ-GJJ',
    nameZh: '钦州市住房公积金管理中心',
    nameEn: 'Housing Provident Fund Centre',
    kind: 'vertical',
    legalBasis: 'P6(3)',
    items: ['P-LOAN'],
  },
  {
    code: 'QZ-WATER',
    nameZh: '钦州市自来水公司',
    nameEn: 'Qinzhou Water Supply',
    kind: 'utility',
    legalBasis: 'P8(4)',
    items: ['P-UTILITY-ARREARS'],
  },
  {
    code: 'QZ-POWER',
    nameZh: '钦州供电局',
    nameEn: 'Qinzhou Power Supply',
    kind: 'utility',
    legalBasis: 'P8(4)',
    items: ['P-UTILITY-ARREARS'],
  },
  { code: 'QZ-GAS', nameZh: '钦州市燃气公司', nameEn: 'Qinzhou Gas', kind: 'utility', legalBasis: 'P8(4)', items: ['P-UTILITY-ARREARS'] },
  {
    code: 'QZ-TELECOM',
    nameZh: '钦州市电信、广电网络服务单位',
    nameEn: 'Telecom and cable operators',
    kind: 'utility',
    legalBasis: 'P8(4)',
    items: ['P-UTILITY-ARREARS'],
  },
  {
    code: 'QZ-INDUSTRY-ASSOC',
    nameZh: '钦州市行业协会（参照行政机关报送）',
    nameEn: 'Industry associations',
    kind: 'industry_association',
    legalBasis: 'E9',
    items: ['E-HONOR', 'E-PENALTY'],
  },
];

export const CATALOG_BY_CODE = new Map(CATALOG.map((i) => [i.code, i]));
