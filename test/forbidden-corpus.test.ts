/**
 * P7: the corpus of forbidden personal data (field names and statements in values) and of lawful text that must
 * pass — table-driven on the domain functions, then a few whole batches through POST /submissions.
 */
import request from 'supertest';
import { CATALOG } from '../domain/catalog';
import { FORBIDDEN_VOCABULARY } from '../domain/forbidden-vocabulary';
import { findForbiddenFields, forbiddenKindOfField, forbiddenKindOfText, normalizeForP7 } from '../domain/forbidden';
import { RecordValidator, checkCsvHeader, csvRowMapper } from '../domain/records';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow, uscc } from './support/fixtures';

type Kind = 'ethnicity' | 'family_background' | 'religion' | 'genes' | 'fingerprints' | 'blood_type' | 'disease_medical_history';

const ZW = '\u200b';

// ---- values that give a person's forbidden data: refused ----------------------------------------------------
const FORBIDDEN_VALUES: Array<[string, Kind]> = [
  // the measured failures
  ['血型：A型', 'blood_type'],
  ['民族：汉族', 'ethnicity'],
  ['既往病史：高血压；宗教信仰：基督教', 'religion'],
  ['既往病史：高血压', 'disease_medical_history'],
  ['blood type: O', 'blood_type'],
  ['religion: Buddhist', 'religion'],
  // ethnicity
  ['民族:汉', 'ethnicity'],
  ['民族 ： 壮族', 'ethnicity'],
  ['民族为壮族', 'ethnicity'],
  ['民族是瑶族', 'ethnicity'],
  ['当事人张三，男，民族：汉族，住钦州市', 'ethnicity'],
  ['姓名：李四；民族：京族', 'ethnicity'],
  ['其民族为回族', 'ethnicity'],
  ['民族成分：苗族', 'ethnicity'],
  ['族别：侗族', 'ethnicity'],
  ['种族：黄种人', 'ethnicity'],
  ['種族：黃種人', 'ethnicity'],
  ['族裔为华裔', 'ethnicity'],
  [`民${ZW}族：汉族`, 'ethnicity'],
  ['民族＝汉族', 'ethnicity'],
  ['Ethnicity: Han', 'ethnicity'],
  ['ethnic group: Zhuang', 'ethnicity'],
  ['Race: Asian', 'ethnicity'],
  ['name: Li; nationality: Zhuang', 'ethnicity'],
  ['ＥＴＨＮＩＣＩＴＹ：Ｈａｎ', 'ethnicity'],
  ['ethnic origin=Yao', 'ethnicity'],
  // family background
  ['家庭出身：贫农', 'family_background'],
  ['家庭出身为地主', 'family_background'],
  ['家庭成分：工人', 'family_background'],
  ['家庭成份：中农', 'family_background'],
  ['出身：富农', 'family_background'],
  ['，出身为干部家庭', 'family_background'],
  ['家庭背景：父亲为公务员', 'family_background'],
  [`家庭${ZW}出身：贫农`, 'family_background'],
  ['family background: farmer', 'family_background'],
  ['Family Origin: worker', 'family_background'],
  ['class background: landlord', 'family_background'],
  // religion
  ['宗教信仰：基督教', 'religion'],
  ['宗教信仰为佛教', 'religion'],
  ['宗教信仰為佛教', 'religion'],
  ['宗教信仰是伊斯兰教', 'religion'],
  ['宗教：道教', 'religion'],
  ['信仰：天主教', 'religion'],
  ['本人信仰为佛教', 'religion'],
  ['教派：逊尼派', 'religion'],
  [`宗${ZW}教信仰：基督教`, 'religion'],
  ['宗教信仰\uFEFF：无', 'religion'],
  ['Religion: Christian', 'religion'],
  ['RELIGION:Islam', 'religion'],
  ['religious belief: Taoism', 'religion'],
  ['religious affiliation: Catholic', 'religion'],
  ['note; faith: Buddhism', 'religion'],
  ['Ｒｅｌｉｇｉｏｎ：Ｂｕｄｄｈｉｓｔ', 'religion'],
  // genes
  ['基因型：AA', 'genes'],
  ['基因信息：BRCA1突变', 'genes'],
  ['基因序列：ATCGGCTA', 'genes'],
  ['基因：APOE4', 'genes'],
  ['遗传信息：携带地中海贫血基因', 'genes'],
  ['遺傳信息：攜帶致病基因', 'genes'],
  ['遗传病：地中海贫血', 'genes'],
  ['染色体：46,XY', 'genes'],
  ['genotype: AA', 'genes'],
  ['DNA: ATCG', 'genes'],
  ['dna sequence: GATTACA', 'genes'],
  ['genetic information: BRCA1', 'genes'],
  ['genetic data = carrier', 'genes'],
  [`基${ZW}因型：AA`, 'genes'],
  // fingerprints
  ['指纹：左手拇指弓形纹', 'fingerprints'],
  ['指紋：右手食指', 'fingerprints'],
  ['指纹信息：已采集', 'fingerprints'],
  ['指纹特征为斗形纹', 'fingerprints'],
  ['指纹是箕形纹', 'fingerprints'],
  ['fingerprint: template#1', 'fingerprints'],
  ['Fingerprints: on file', 'fingerprints'],
  [`指${ZW}纹：斗形`, 'fingerprints'],
  // blood type
  ['血型:O型', 'blood_type'],
  ['血型为B型', 'blood_type'],
  ['血型是AB型', 'blood_type'],
  ['ABO血型：A型', 'blood_type'],
  ['本人的血型是A型', 'blood_type'],
  ['姓名张三，血型：O型，住址钦州', 'blood_type'],
  ['血型 : Rh阴性', 'blood_type'],
  [`血${ZW}型：A型`, 'blood_type'],
  [`血\u200c型：A型`, 'blood_type'],
  [`血\u200d型：A型`, 'blood_type'],
  ['血型﹕A', 'blood_type'],
  ['Blood Type: AB', 'blood_type'],
  ['BLOOD GROUP: B+', 'blood_type'],
  ['blood-type: A', 'blood_type'],
  ['blood_type=O', 'blood_type'],
  ['ＢｌｏｏｄＴｙｐｅ：Ｏ', 'blood_type'],
  // diseases and medical history
  ['病史：糖尿病', 'disease_medical_history'],
  ['既往史：肺结核', 'disease_medical_history'],
  ['既往病史为乙肝', 'disease_medical_history'],
  ['病历：2025年住院', 'disease_medical_history'],
  ['病歷：2025年住院', 'disease_medical_history'],
  ['病情：稳定', 'disease_medical_history'],
  ['病症为抑郁症', 'disease_medical_history'],
  ['疾病：艾滋病', 'disease_medical_history'],
  ['诊断：精神分裂症', 'disease_medical_history'],
  ['診斷：肝炎', 'disease_medical_history'],
  ['，诊断为肺结核', 'disease_medical_history'],
  ['健康状况：患有心脏病', 'disease_medical_history'],
  ['健康狀況：良好', 'disease_medical_history'],
  ['身体状况为残疾', 'disease_medical_history'],
  ['身體狀況：差', 'disease_medical_history'],
  ['健康状态：住院治疗', 'disease_medical_history'],
  [`病${ZW}史：哮喘`, 'disease_medical_history'],
  ['medical history: diabetes', 'disease_medical_history'],
  ['Medical Record: hospitalised 2025', 'disease_medical_history'],
  ['health condition: poor', 'disease_medical_history'],
  ['health status: HIV positive', 'disease_medical_history'],
  ['HIV status: positive', 'disease_medical_history'],
  ['disease: hepatitis B', 'disease_medical_history'],
  ['Diseases: asthma', 'disease_medical_history'],
  ['illness: depression', 'disease_medical_history'],
  ['diagnosis: tuberculosis', 'disease_medical_history'],
  ['name: Li; diagnosis: cancer', 'disease_medical_history'],
  ['ｍｅｄｉｃａｌ ｈｉｓｔｏｒｙ：ｎｏｎｅ', 'disease_medical_history'],
];

// ---- lawful text that must pass -----------------------------------------------------------------------------
const LAWFUL_VALUES: string[] = [
  '违反《传染病防治法》第三十条',
  '违反《中华人民共和国传染病防治法》第七十三条，罚款五千元',
  '依据《传染病防治法》：责令改正',
  '钦州市疾病预防控制中心',
  '钦州市疾病预防控制中心卫生监督所',
  '民族饭店',
  '钦州民族饭店有限公司',
  '钦州民族医院',
  '钦州市民族医院门诊部',
  '血型检测试剂',
  '血型检测试剂盒（ABO/RhD）',
  '生产销售血型检测试剂未取得注册证',
  '信仰诚信经营',
  '本企业信仰诚信经营、守法经营',
  '我们的信仰是诚信',
  '基因检测服务',
  '经营范围：基因检测服务；医学检验',
  '经营范围：指纹锁销售、安装',
  '指纹锁',
  '指纹识别门禁系统',
  '中华民族是伟大的民族',
  '弘扬中华民族传统美德',
  '民族团结进步示范单位',
  '民族大道88号',
  '钦州市民族大道:12号',
  '宗教事务局',
  '钦州市民族宗教事务委员会',
  '宗教活动场所登记证',
  '疾病预防控制',
  '以疾病为由拒不履行',
  '诊断试剂生产许可证',
  '医学诊断设备',
  '病历本印刷',
  '出身寒门，白手起家',
  '家庭农场',
  '家庭背景墙装修',
  '遗传学研究所',
  '基因工程',
  '转基因食品标识违规',
  '染色体检测设备',
  '用于检测血型是否相合的设备',
  '献血型号',
  '血液制品',
  '民族工业',
  '少数民族地区',
  '信仰',
  '血型',
  '民族',
  '是',
  '为',
  'O',
  'A型',
  '5000',
  '2026-10-12',
  '钦市监罚〔2026〕1号',
  '虚假宣传',
  '无照经营,情节较轻',
  '罚款：5000元',
  '处罚内容：警告',
  '认定机关：钦州市市场监督管理局',
  '荣誉：守合同重信用企业',
  '商标：民族牌',
  '产品名称：血型检测试剂',
  '产品：基因检测试剂盒',
  '名称：钦州民族医院',
  '单位：钦州市疾病预防控制中心',
  '文号：钦疾控〔2026〕3号',
  '承诺：信仰诚信经营',
  'Infectious Disease Prevention Law, Article 30',
  'Law on the Prevention and Treatment of Infectious Diseases: fine',
  'Qinzhou Center for Disease Control and Prevention',
  'Minzu Hotel',
  'blood type test reagent',
  'gene testing services',
  'trace: none',
  'the race is on',
  'Race to the top campaign',
  'faithful performance of contracts',
  'good faith',
  'medical device license: valid',
  'healthcare services',
  'fingerprint lock installation',
  'DNA testing laboratory',
  'diagnostic reagents',
  'international trade',
  'international: yes',
  'citizenship: Chinese',
  '国籍：中国',
  'genetic engineering',
  'bloody mary bar',
  'religious affairs bureau',
  'medical institution level: 二级',
  'illness insurance product',
  'nationalities unity award',
  'https://example.org/religion',
  'gene_therapy_center',
  '钦州民族药业有限公司：药品生产许可',
  '疾病控制中心：检验合格',
];

// ---- field names ------------------------------------------------------------------------------------------
const FORBIDDEN_NAMES: Array<[string, Kind]> = [
  ['种族', 'ethnicity'],
  ['種族', 'ethnicity'],
  ['民族', 'ethnicity'],
  ['民族成分', 'ethnicity'],
  ['族别', 'ethnicity'],
  ['nationality', 'ethnicity'],
  ['Nationality', 'ethnicity'],
  ['ethnic_group', 'ethnicity'],
  ['racialOrigin', 'ethnicity'],
  ['Race', 'ethnicity'],
  ['家庭出身', 'family_background'],
  ['家庭背景', 'family_background'],
  ['familyBackground', 'family_background'],
  ['宗教信仰', 'religion'],
  ['宗教', 'religion'],
  ['faith', 'religion'],
  ['religion_name', 'religion'],
  ['遗传信息', 'genes'],
  ['遺傳信息', 'genes'],
  ['基因', 'genes'],
  ['DNASequence', 'genes'],
  ['dna_sequence', 'genes'],
  ['GeneticMarker', 'genes'],
  ['genotype', 'genes'],
  ['指紋', 'fingerprints'],
  ['指纹', 'fingerprints'],
  ['指纹特征', 'fingerprints'],
  ['FingerPrint', 'fingerprints'],
  ['血型', 'blood_type'],
  [`血${ZW}型`, 'blood_type'],
  [`血\uFEFF型`, 'blood_type'],
  ['ＢｌｏｏｄＴｙｐｅ', 'blood_type'],
  ['Ｂｌｏｏｄ＿ｔｙｐｅ', 'blood_type'],
  ['blood', 'blood_type'],
  ['健康状况', 'disease_medical_history'],
  ['健康狀況', 'disease_medical_history'],
  ['身体状况', 'disease_medical_history'],
  ['身體狀況', 'disease_medical_history'],
  ['病歷', 'disease_medical_history'],
  ['病历', 'disease_medical_history'],
  ['既往病史', 'disease_medical_history'],
  ['疾病名称', 'disease_medical_history'],
  ['诊断结果', 'disease_medical_history'],
  ['hiv_status', 'disease_medical_history'],
  ['HIVStatus', 'disease_medical_history'],
  ['HIV', 'disease_medical_history'],
  ['medicalHistory', 'disease_medical_history'],
  ['health_condition', 'disease_medical_history'],
  ['chronic_disease', 'disease_medical_history'],
  ['illness', 'disease_medical_history'],
];

const LAWFUL_NAMES: string[] = [
  ...new Set(CATALOG.flatMap((i) => i.fields.map((f) => f.name))),
  'item_code',
  'subject_id',
  'event_date',
  'concluded_date',
  'valid_until',
  'lifted_date',
  'trace_id',
  'medical_institution_level',
  'general_manager',
  'creditLimit',
  '国籍',
  'citizenship',
  'international_code',
  'archive',
  'shiv',
  'generator',
];

describe('P7 statements in values (domain)', () => {
  test.each(FORBIDDEN_VALUES)('%s is refused as %s', (text, kind) => {
    expect(forbiddenKindOfText(text)?.kind).toBe(kind);
  });
  test.each(LAWFUL_VALUES)('%s passes', (text) => {
    expect(forbiddenKindOfText(text)).toBeNull();
  });
});

describe('P7 field names (domain)', () => {
  test.each(FORBIDDEN_NAMES)('%s is refused as %s', (name, kind) => {
    expect(forbiddenKindOfField(name)?.kind).toBe(kind);
  });
  test.each(LAWFUL_NAMES)('%s passes', (name) => {
    expect(forbiddenKindOfField(name)).toBeNull();
  });
});

test('the corpus keeps at least 200 cases, both sides', () => {
  expect(FORBIDDEN_VALUES.length + FORBIDDEN_NAMES.length).toBeGreaterThanOrEqual(100);
  expect(LAWFUL_VALUES.length + LAWFUL_NAMES.length).toBeGreaterThanOrEqual(100);
  expect(FORBIDDEN_VALUES.length + FORBIDDEN_NAMES.length + LAWFUL_VALUES.length + LAWFUL_NAMES.length).toBeGreaterThanOrEqual(200);
  // every category is exercised, in names and in values
  for (const c of FORBIDDEN_VOCABULARY) {
    expect(FORBIDDEN_VALUES.some(([, k]) => k === c.kind)).toBe(true);
    expect(FORBIDDEN_NAMES.some(([, k]) => k === c.kind)).toBe(true);
  }
});

test('normalization: NFKC, zero-width removed, traditional forms of the listed words simplified, lower case', () => {
  expect(normalizeForP7(`Ｂｌｏｏｄ${ZW}Ｔｙｐｅ：指紋、病歷、種族`)).toBe('bloodtype:指纹、病历、种族');
});

describe('the record validator refuses P7 before anything else (P7, not P6)', () => {
  const validator = new RecordValidator({
    catalog: new Map(CATALOG.map((i) => [i.code, i])),
    allowedItems: new Set(CATALOG.map((i) => i.code)),
    today: '2026-11-30',
  });
  const withPayload = (extra: Record<string, unknown>) => penaltyRow(1, { payload: { ...penaltyRow(1).payload, ...extra } });

  test.each(['种族', '遗传信息', '健康状况', '身体状况', '指紋', '病歷', 'DNASequence', 'hiv_status', `血${ZW}型`, 'ＢｌｏｏｄＴｙｐｅ'])(
    'a field named %s is P7',
    (name) => {
      const v = validator.validate(withPayload({ [name]: 'x' }), 3);
      expect(v.ok).toBe(false);
      expect(!v.ok && v.errors).toEqual([
        { row: 3, field: `payload.${name}`, reason: expect.stringMatching(/^禁止采集的个人信息/), article: 'P7' },
      ]);
    },
  );

  test.each([
    ['violation', '虚假宣传；当事人血型：A型'],
    ['authority', '钦州市市场监督管理局（民族：汉族）'],
    ['penalty', '罚款；既往病史：高血压'],
    ['decision_no', 'religion: Buddhist'],
  ])('a statement in %s is P7, with the row and the field', (field, text) => {
    const v = validator.validate(withPayload({ [field]: text }), 2);
    expect(!v.ok && v.errors).toEqual([
      { row: 2, field: `payload.${field}`, reason: expect.stringMatching(/^字段值载有禁止采集的个人信息/), article: 'P7' },
    ]);
  });

  test('a statement nested anywhere in the row, and a CSV row (its keys checked with the header)', () => {
    expect(findForbiddenFields({ payload: { notes: ['ok', { text: '血型为B型' }] } }).map((h) => [h.path, h.where])).toEqual([
      ['payload.notes[1].text', 'value'],
    ]);
    const header = ['item_code', 'subject_id', 'event_date', 'decision_no', 'violation', 'penalty', 'authority'];
    const row = csvRowMapper(header)(['E-PENALTY', uscc(1), '2026-10-12', 'a', '宗教信仰：基督教', '罚款', 'x']);
    const v = validator.validate(row, 5, { keysChecked: true });
    expect(!v.ok && v.errors).toEqual([expect.objectContaining({ row: 5, field: 'payload.violation', article: 'P7' })]);
  });

  test('lawful text in every free-text field passes', () => {
    const v = validator.validate(
      withPayload({ violation: '违反《传染病防治法》第三十条', authority: '钦州市疾病预防控制中心', penalty: '信仰诚信经营' }),
      1,
    );
    expect(v.ok).toBe(true);
  });

  test.each(['种族', '健康状况', 'nationality', `民${ZW}族`, 'Ｂｌｏｏｄ Ｔｙｐｅ'])('a CSV column %s is P7 (header row 0)', (col) => {
    const errors = checkCsvHeader(['item_code', 'subject_id', 'event_date', col]);
    expect(errors).toEqual([expect.objectContaining({ row: 0, field: col, article: 'P7' })]);
  });
});

// ---- end to end ----------------------------------------------------------------------------------------------
describe('POST /submissions', () => {
  let p: TestPlatform;
  let gsj: string;
  beforeAll(async () => {
    p = await startTestPlatform();
    gsj = (await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
  }, 120000);
  afterAll(async () => {
    await p?.stop();
  });

  let seq = 0;
  const key = () => `p7-${++seq}`;
  const stored = async () => Number((await p.db('records').count({ n: '*' }))[0].n);
  const submit = (body: unknown) =>
    request(p.app)
      .post('/submissions')
      .set('Authorization', gsj)
      .set('Idempotency-Key', key())
      .send(body as object);
  const submitCsv = (csv: string) =>
    request(p.app)
      .post('/submissions?period=2026-10')
      .set('Authorization', gsj)
      .set('Idempotency-Key', key())
      .set('Content-Type', 'text/csv; charset=utf-8')
      .send(csv);
  const withPayload = (n: number, extra: Record<string, unknown>) => penaltyRow(n, { payload: { ...penaltyRow(n).payload, ...extra } });

  test.each([
    [
      '血型：A型 in violation',
      { period: '2026-10', records: [penaltyRow(1), withPayload(2, { violation: '虚假宣传，血型：A型' })] },
      2,
      'payload.violation',
    ],
    ['民族：汉族 in authority', { period: '2026-10', records: [withPayload(3, { authority: '民族：汉族' })] }, 1, 'payload.authority'],
    [
      'blood type: O in penalty',
      { period: '2026-10', records: [withPayload(4, { penalty: 'warning; blood type: O' })] },
      1,
      'payload.penalty',
    ],
    ['a field 种族 (P7, not P6)', { period: '2026-10', records: [withPayload(5, { 种族: '汉' })] }, 1, 'payload.种族'],
    [
      'a field hiv_status (P7, not P6)',
      { period: '2026-10', records: [withPayload(6, { hiv_status: 'negative' })] },
      1,
      'payload.hiv_status',
    ],
    ['a zero-width field 血\\u200b型', { period: '2026-10', records: [withPayload(7, { [`血${ZW}型`]: 'A' })] }, 1, `payload.血${ZW}型`],
    ['a forbidden key beside records', { period: '2026-10', records: [penaltyRow(8)], 宗教信仰: '佛教' }, 0, '宗教信仰'],
  ])('%s: 422, article P7, nothing stored', async (_name, body, row, field) => {
    const before = await stored();
    const res = await submit(body);
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row, field, article: 'P7' })]);
    expect(await stored()).toBe(before);
  });

  test('CSV: a forbidden column with every cell empty is 422 P7; a statement in a cell is 422 P7', async () => {
    const before = await stored();
    const a = await submitCsv(
      `item_code,subject_id,event_date,decision_no,violation,penalty,authority,nationality\nE-PENALTY,${uscc(9)},2026-10-09,a,b,c,d,\n`,
    );
    expect(a.status).toBe(422);
    expect(a.body.error.details).toEqual([expect.objectContaining({ row: 0, field: 'nationality', article: 'P7' })]);
    const b = await submitCsv(
      `item_code,subject_id,event_date,decision_no,violation,penalty,authority\nE-PENALTY,${uscc(10)},2026-10-09,a,宗教信仰：基督教,c,d\n`,
    );
    expect(b.status).toBe(422);
    expect(b.body.error.details).toEqual([expect.objectContaining({ row: 1, field: 'payload.violation', article: 'P7' })]);
    expect(await stored()).toBe(before);
  });

  test('lawful text is accepted', async () => {
    const res = await submit({
      period: '2026-10',
      records: [
        withPayload(11, { violation: '违反《传染病防治法》第三十条', authority: '钦州市疾病预防控制中心' }),
        withPayload(12, { violation: '生产销售血型检测试剂未取得注册证', authority: '钦州市市场监督管理局', penalty: '罚款' }),
        {
          item_code: 'E-HONOR',
          subject_id: uscc(13),
          event_date: '2026-10-01',
          payload: { title: '钦州民族医院 守合同重信用', kind: '表彰', issuer: '钦州市疾病预防控制中心' },
        },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.submission.row_count).toBe(3);
  });

  test('GET /catalog/forbidden-personal-data publishes the vocabulary, public', async () => {
    const res = await request(p.app).get('/catalog/forbidden-personal-data');
    expect(res.status).toBe(200);
    expect(res.body.article).toBe('P7');
    expect(res.body.categories.map((c: { kind: string }) => c.kind)).toEqual(FORBIDDEN_VOCABULARY.map((c) => c.kind));
    const blood = res.body.categories.find((c: { kind: string }) => c.kind === 'blood_type');
    expect(blood).toMatchObject({ label_zh: '血型', article: 'P7' });
    expect(blood.field_names).toContain('血型');
    expect(blood.statement_labels_en).toContain('blood type');
    expect(new RegExp(blood.statement_pattern, 'u').test('血型:a型')).toBe(true); // matched on normalized text (NFKC: '：' is ':')
    const doc = await request(p.app).get('/openapi.json');
    expect(doc.body.paths['/catalog/forbidden-personal-data'].get).toBeDefined();
  });
});
