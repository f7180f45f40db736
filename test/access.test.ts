import request from 'supertest';
import {
  BASIS_KINDS,
  BASIS_NAMES_ZH,
  decideAccess,
  feeFor,
  isPublicCategory,
  protectedCategories,
  type AccessRequest,
  type AuthorizationFacts,
  type BasisFacts,
  type Querier,
  type RatingAgreementFacts,
} from '../domain/access';
import { ROLES, type Role } from '../domain/roles';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { citizenId, seedRecord, uscc } from './support/fixtures';

/**
 * The access matrix: every role × every kind of information × the role's own subject and another subject, each
 * cell asserted — first on the pure rules (domain/access.ts), then through the API on PostgreSQL.
 *
 * "Own" subject: the enterprise a principal of role `enterprise` is bound to, the person of role `person`; for
 * the other roles the subject their role gives them a basis for — the enterprise a rating agency's request was
 * approved for, any subject for a body holding its proof of duty — and the same subject for roles without any.
 * "Other": a different enterprise or person. Each role uses the best basis it can state without holding
 * anyone's authorization (authorizations are tested below and in queries.test.ts).
 */
type Kind =
  'E:public' | 'E:tax' | 'E:financial' | 'E:credit' | 'E:other_restricted' | 'P:basic' | 'P:public_credit' | 'P:commercial_credit';
const KINDS: Kind[] = [
  'E:public',
  'E:tax',
  'E:financial',
  'E:credit',
  'E:other_restricted',
  'P:basic',
  'P:public_credit',
  'P:commercial_credit',
];
type MatrixRole = Role | 'public';
const MATRIX_ROLES: MatrixRole[] = ['public', ...ROLES];
type Cell = 'public' | 'allowed' | 'refused' | 'unauthenticated';

/** The law, cell by cell (E11–E14, P12). */
function expected(role: MatrixRole, kind: Kind, own: boolean): Cell {
  if (kind === 'E:public') return 'public'; // E11, E12: published for everyone, read from the publication
  if (role === 'public') return 'unauthenticated';
  const enterprise = kind.startsWith('E:');
  switch (role) {
    case 'enterprise':
      return enterprise && own ? 'allowed' : 'refused'; // E14(1)
    case 'person':
      return !enterprise && own ? 'allowed' : 'refused'; // P12(1)
    case 'rating_agency':
      return enterprise && own ? 'allowed' : 'refused'; // E14(3): the approved enterprise only; P12: persons need authorization
    case 'government':
    case 'judicial':
      return enterprise || kind === 'P:public_credit' ? 'allowed' : 'refused'; // E14(4); P12(3): public credit only
    default:
      return 'refused'; // provider, staff, admin, supervisor: no basis of their own
  }
}

const E_OWN = uscc(901);
const E_OTHER = uscc(902);
const P_OWN = citizenId(901);
const P_OTHER = citizenId(902);
const subjectFor = (kind: Kind, own: boolean) =>
  kind.startsWith('E:')
    ? { type: 'enterprise' as const, id: own ? E_OWN : E_OTHER }
    : { type: 'person' as const, id: own ? P_OWN : P_OTHER };
/** The category a cell asks for; public enterprise information is represented by warnings (E12(3)). */
const categoryOf = (kind: Kind) => (kind === 'E:public' ? 'warning' : kind.slice(2));

const TODAY = '2026-11-27';
const NOW = '2026-11-27T02:00:00.000Z';

function querierFor(role: Role, id = `id-${role}`): Querier {
  return {
    id,
    role,
    organization: `${role}-org`,
    enterpriseUscc: role === 'enterprise' ? E_OWN : null,
    personId: role === 'person' ? P_OWN : null,
  };
}

function basisFor(role: Role, querierId: string): BasisFacts {
  switch (role) {
    case 'rating_agency':
      return {
        kind: 'rating_approval',
        approval: {
          id: 'r1',
          agencyPrincipalId: querierId,
          subjectUscc: E_OWN,
          categories: ['tax', 'financial', 'credit', 'other_restricted'],
          status: 'approved',
          validUntil: '2026-12-27T00:00:00.000Z',
        },
      };
    case 'government':
    case 'judicial':
      return { kind: 'duty', proof: { documentId: 'd1', kind: 'duty_proof', uploadedBy: querierId } };
    default:
      return { kind: 'self' };
  }
}

describe('the access matrix on the rules (E13, E14, P12)', () => {
  for (const role of MATRIX_ROLES) {
    for (const kind of KINDS) {
      for (const own of [true, false]) {
        const cell = expected(role, kind, own);
        test(`${role} × ${kind} × ${own ? 'own' : 'other'} → ${cell}`, () => {
          if (cell === 'public') {
            // Readable by everyone from the publication (E12); never asked for through a query.
            for (const c of ['basic', 'honor', 'warning', 'voluntary']) expect(isPublicCategory('enterprise', c)).toBe(true);
            expect(protectedCategories('enterprise')).not.toContain(categoryOf(kind));
            return;
          }
          const q = role === 'public' ? null : querierFor(role);
          const d = decideAccess({
            querier: q,
            subject: subjectFor(kind, own),
            categories: [categoryOf(kind)],
            basis: role === 'public' ? { kind: 'self' } : basisFor(role, q!.id),
            today: TODAY,
            now: NOW,
          });
          if (cell === 'allowed') {
            expect(d).toMatchObject({ ok: true, allowed: [categoryOf(kind)], withheld: [] });
          } else {
            expect(d.ok).toBe(false);
            if (!d.ok) {
              expect(d.reason).toMatch(/[\u4e00-\u9fff].* \/ /); // Chinese, then English
              expect(d.article).toMatch(/^(E1[234]|P1[234]|E22)/);
              if (cell === 'unauthenticated') expect(d.code).toBe('UNAUTHENTICATED');
            }
          }
        });
      }
    }
  }
});

describe('authorizations on the rules (E14.2, P12.2, P14)', () => {
  const grantee = querierFor('rating_agency', 'grantee-1');
  const auth = (over: Partial<AuthorizationFacts> = {}): AuthorizationFacts => ({
    id: 'a1',
    subjectType: 'person',
    subjectId: P_OWN,
    granteePrincipalId: 'grantee-1',
    granteeOrganization: null,
    categories: ['commercial_credit'],
    validFrom: '2026-11-01',
    validUntil: '2026-11-30',
    revokedAt: null,
    ...over,
  });
  const decide = (a: AuthorizationFacts | null, over: Partial<AccessRequest> = {}) =>
    decideAccess({
      querier: grantee,
      subject: { type: 'person', id: P_OWN },
      categories: ['commercial_credit'],
      basis: { kind: 'authorization', authorization: a },
      today: TODAY,
      now: NOW,
      ...over,
    });

  test('valid, within scope: allowed; chargeable for a rating agency, free for a person (E16)', () => {
    expect(decide(auth())).toMatchObject({ ok: true, allowed: ['commercial_credit'], fee: 'chargeable', article: 'P12(2)' });
    expect(feeFor('person')).toBe('free');
    expect(feeFor('judicial')).toBe('free');
    expect(feeFor('government')).toBe('free');
    expect(feeFor('enterprise')).toBe('chargeable');
  });
  test('validity counts whole days: its first and last day are in, the day after is out', () => {
    expect(decide(auth({ validFrom: TODAY, validUntil: TODAY })).ok).toBe(true);
    expect(decide(auth({ validUntil: '2026-11-26' }))).toMatchObject({ ok: false, code: 'AUTHORIZATION_EXPIRED' });
    expect(decide(auth({ validFrom: '2026-11-28', validUntil: '2026-12-31' }))).toMatchObject({
      ok: false,
      code: 'AUTHORIZATION_NOT_YET_VALID',
    });
  });
  test('revoked: refused', () => {
    expect(decide(auth({ revokedAt: '2026-11-20T00:00:00.000Z' }))).toMatchObject({
      ok: false,
      code: 'AUTHORIZATION_REVOKED',
      article: 'P12(2)',
    });
  });
  test('never beyond the scope (P14): the rest is withheld; nothing in scope is a refusal', () => {
    const d = decide(auth({ categories: ['commercial_credit'] }), { categories: ['basic', 'commercial_credit'] });
    expect(d).toMatchObject({ ok: true, allowed: ['commercial_credit'], withheld: [{ category: 'basic', article: 'P14' }] });
    expect(decide(auth(), { categories: ['public_credit'] })).toMatchObject({ ok: false, code: 'BEYOND_SCOPE', article: 'P14' });
    const all = decide(auth({ categories: ['basic', 'public_credit'] }), { categories: [] });
    expect(all).toMatchObject({ ok: true, allowed: ['basic', 'public_credit'], withheld: [{ category: 'commercial_credit' }] });
  });
  test('only the grantee, by principal or by organization; only for its subject', () => {
    expect(decide(auth({ granteePrincipalId: 'someone-else' }))).toMatchObject({ ok: false, code: 'NOT_GRANTEE' });
    expect(decide(auth({ granteePrincipalId: null, granteeOrganization: 'rating_agency-org' })).ok).toBe(true);
    expect(decide(auth({ granteePrincipalId: null, granteeOrganization: 'other-org' }))).toMatchObject({ ok: false, code: 'NOT_GRANTEE' });
    expect(decide(auth({ subjectId: P_OTHER }))).toMatchObject({ ok: false, code: 'AUTHORIZATION_NOT_FOUND' });
    expect(decide(null)).toMatchObject({ ok: false, code: 'AUTHORIZATION_NOT_FOUND' });
  });
  test('an enterprise authorization reaches restricted categories, never beyond (E14.2, E22)', () => {
    const d = decideAccess({
      querier: grantee,
      subject: { type: 'enterprise', id: E_OWN },
      categories: ['tax', 'credit'],
      basis: { kind: 'authorization', authorization: auth({ subjectType: 'enterprise', subjectId: E_OWN, categories: ['tax'] }) },
      today: TODAY,
      now: NOW,
    });
    expect(d).toMatchObject({ ok: true, allowed: ['tax'], withheld: [{ category: 'credit', article: 'E22' }], article: 'E14(2)' });
  });
});

describe('rating approvals, proofs of duty and judicial requests on the rules', () => {
  const agency = querierFor('rating_agency', 'agency-1');
  const approval = (over = {}) => ({
    id: 'r1',
    agencyPrincipalId: 'agency-1',
    subjectUscc: E_OWN,
    categories: ['tax'],
    status: 'approved' as const,
    validUntil: '2026-12-01T00:00:00.000Z',
    ...over,
  });
  const rate = (a: ReturnType<typeof approval> | null, q: Querier = agency, categories = ['tax']) =>
    decideAccess({
      querier: q,
      subject: { type: 'enterprise', id: E_OWN },
      categories,
      basis: { kind: 'rating_approval', approval: a },
      today: TODAY,
      now: NOW,
    });

  test("a rating approval: only approved, unexpired, the agency's own, within the approved categories (E14.3)", () => {
    expect(rate(approval())).toMatchObject({ ok: true, allowed: ['tax'], fee: 'chargeable' });
    expect(rate(approval({ status: 'requested' }))).toMatchObject({ ok: false, code: 'REQUEST_REQUESTED' });
    expect(rate(approval({ status: 'rejected' }))).toMatchObject({ ok: false, code: 'REQUEST_REJECTED' });
    expect(rate(approval({ status: 'lapsed' }))).toMatchObject({ ok: false, code: 'REQUEST_LAPSED' });
    expect(rate(approval({ validUntil: '2026-11-27T01:59:59.999Z' }))).toMatchObject({ ok: false, code: 'APPROVAL_EXPIRED' });
    expect(rate(approval({ agencyPrincipalId: 'agency-2' }))).toMatchObject({ ok: false, code: 'APPROVAL_NOT_FOUND' });
    expect(rate(approval(), querierFor('enterprise'))).toMatchObject({ ok: false, code: 'NOT_RATING_AGENCY' });
    expect(rate(approval(), agency, ['tax', 'credit'])).toMatchObject({ ok: true, allowed: ['tax'], withheld: [{ category: 'credit' }] });
  });

  test('a proof of duty must be a duty proof uploaded by the querying body itself (E14.4, P12.3)', () => {
    const gov = querierFor('government', 'gov-1');
    const duty = (proof: { documentId: string; kind: string; uploadedBy: string } | null, q: Querier = gov) =>
      decideAccess({
        querier: q,
        subject: { type: 'person', id: P_OTHER },
        categories: [],
        basis: { kind: 'duty', proof },
        today: TODAY,
        now: NOW,
      });
    expect(duty({ documentId: 'd', kind: 'duty_proof', uploadedBy: 'gov-1' })).toMatchObject({
      ok: true,
      allowed: ['public_credit'],
      withheld: [{ category: 'basic' }, { category: 'commercial_credit' }],
      fee: 'free',
      article: 'P12(3)',
    });
    expect(duty({ documentId: 'd', kind: 'duty_proof', uploadedBy: 'gov-2' })).toMatchObject({ ok: false, code: 'DUTY_PROOF_INVALID' });
    expect(duty({ documentId: 'd', kind: 'authorization', uploadedBy: 'gov-1' })).toMatchObject({ ok: false, code: 'DUTY_PROOF_INVALID' });
    expect(duty(null)).toMatchObject({ ok: false, code: 'DUTY_PROOF_INVALID' });
    expect(duty({ documentId: 'd', kind: 'duty_proof', uploadedBy: 'staff-1' }, querierFor('staff', 'staff-1'))).toMatchObject({
      ok: false,
      code: 'NOT_DUTY_BODY',
    });
  });

  test('a judicial request reaches restricted enterprise information and personal public credit information only (E14.4, P12.3, P13)', () => {
    const judge = querierFor('judicial', 'j-1');
    const req = { id: 'jr', requesterPrincipalId: 'j-1', subjectType: 'person' as const, subjectId: P_OWN };
    const d = decideAccess({
      querier: judge,
      subject: { type: 'person', id: P_OWN },
      categories: [],
      basis: { kind: 'judicial_request', request: req },
      today: TODAY,
      now: NOW,
    });
    expect(d).toMatchObject({ ok: true, allowed: ['public_credit'], fee: 'free' });
    const e = decideAccess({
      querier: judge,
      subject: { type: 'enterprise', id: E_OWN },
      categories: [],
      basis: { kind: 'judicial_request', request: { ...req, subjectType: 'enterprise', subjectId: E_OWN } },
      today: TODAY,
      now: NOW,
    });
    expect(e).toMatchObject({ ok: true, allowed: ['tax', 'financial', 'credit', 'other_restricted'] });
    const other = decideAccess({
      querier: judge,
      subject: { type: 'person', id: P_OTHER },
      categories: [],
      basis: { kind: 'judicial_request', request: req },
      today: TODAY,
      now: NOW,
    });
    expect(other).toMatchObject({ ok: false, code: 'REQUEST_NOT_FOUND' });
  });
});

describe('rating agreements on the rules (E14.3, per agreement)', () => {
  const agency = querierFor('rating_agency', 'agency-1');
  const agreement = (over: Partial<RatingAgreementFacts> = {}): RatingAgreementFacts => ({
    id: 'ag1',
    agencyPrincipalId: 'agency-1',
    agreementNo: '钦信协〔2026〕1号',
    categories: ['tax', 'credit'],
    enterprises: null,
    validFrom: '2026-11-01',
    validUntil: '2026-12-31',
    terminatedAt: null,
    ...over,
  });
  const underAgreement = (a: RatingAgreementFacts | null, over: Partial<AccessRequest> = {}) =>
    decideAccess({
      querier: agency,
      subject: { type: 'enterprise', id: E_OWN },
      categories: ['tax'],
      basis: { kind: 'rating_agreement', agreement: a },
      today: TODAY,
      now: NOW,
      ...over,
    });
  const refusedWith = (d: ReturnType<typeof decideAccess>, code: string, article = 'E14(3)') => {
    expect(d).toMatchObject({ ok: false, basis: 'rating_agreement', code, article, fee: 'free' });
    if (!d.ok) expect(d.reason).toMatch(/[\u4e00-\u9fff].* \/ [A-Za-z]/); // Chinese, then English
  };

  test('the basis kind is named in Chinese', () => {
    expect(BASIS_KINDS).toContain('rating_agreement');
    expect(BASIS_NAMES_ZH.rating_agreement).toBe('信用评级机构协议查询');
  });
  test("the agency's own agreement, in force, within scope: granted and chargeable (E16)", () => {
    expect(underAgreement(agreement())).toEqual({
      ok: true,
      basis: 'rating_agreement',
      allowed: ['tax'],
      withheld: [],
      fee: 'chargeable',
      article: 'E14(3)',
    });
    // listed enterprises: granted for a listed one
    expect(underAgreement(agreement({ enterprises: [E_OTHER, E_OWN] }))).toMatchObject({ ok: true, allowed: ['tax'] });
  });
  test('categories beyond the agreement are withheld; nothing within it is a refusal', () => {
    expect(underAgreement(agreement(), { categories: ['tax', 'financial'] })).toMatchObject({
      ok: true,
      allowed: ['tax'],
      withheld: [{ category: 'financial', article: 'E14(3), E22' }],
    });
    expect(underAgreement(agreement(), { categories: [] })).toMatchObject({
      ok: true,
      allowed: ['tax', 'credit'],
      withheld: [{ category: 'financial' }, { category: 'other_restricted' }],
    });
    expect(underAgreement(agreement(), { categories: ['other_restricted'] })).toMatchObject({
      ok: false,
      code: 'BEYOND_SCOPE',
      article: 'E14(3), E22',
    });
  });
  test('only a rating agency queries under an agreement', () => {
    for (const role of ['staff', 'enterprise', 'admin', 'government'] as const) {
      refusedWith(underAgreement(agreement(), { querier: querierFor(role, 'agency-1') }), 'NOT_RATING_AGENCY');
    }
  });
  test('a person is never reached through an agreement (P12(2): written authorization)', () => {
    refusedWith(
      underAgreement(agreement(), { subject: { type: 'person', id: P_OWN }, categories: ['commercial_credit'] }),
      'PERSON_NEEDS_AUTHORIZATION',
      'E14(3), P12(2)',
    );
  });
  test("none, or another agency's: not found", () => {
    refusedWith(underAgreement(null), 'AGREEMENT_NOT_FOUND');
    refusedWith(underAgreement(agreement({ agencyPrincipalId: 'agency-2' })), 'AGREEMENT_NOT_FOUND');
  });
  test('terminated: refused at once', () => {
    refusedWith(underAgreement(agreement({ terminatedAt: '2026-11-26T08:00:00.000Z' })), 'AGREEMENT_TERMINATED');
  });
  test('its period counts whole Shanghai days: first and last day in, the days outside refused', () => {
    expect(underAgreement(agreement({ validFrom: TODAY, validUntil: TODAY })).ok).toBe(true);
    refusedWith(underAgreement(agreement({ validFrom: '2026-11-28' })), 'AGREEMENT_NOT_YET_VALID');
    refusedWith(underAgreement(agreement({ validFrom: '2026-10-01', validUntil: '2026-11-26' })), 'AGREEMENT_EXPIRED');
  });
  test("an enterprise not in the agreement's list: refused", () => {
    refusedWith(underAgreement(agreement({ enterprises: [E_OTHER] })), 'ENTERPRISE_NOT_COVERED');
  });
});

// ─── The same matrix through the API, on PostgreSQL ───────────────────────────────────────────────────────────

const ITEM_OF: Record<Kind, { item: string; payload: Record<string, unknown> }> = {
  'E:public': {
    item: 'E-PENALTY',
    payload: { decision_no: '钦市监罚〔2026〕9号', violation: '虚假宣传', penalty: '罚款', authority: '市场监督管理局' },
  },
  'E:tax': { item: 'E-TAX', payload: { tax_year: 2025, tax_paid: 120000, rating: 'A' } },
  'E:financial': { item: 'E-FINANCIAL', payload: { report_period: '2025', assets: 5000, liabilities: 2000 } },
  'E:credit': { item: 'E-CREDIT', payload: { lender: '钦州银行', amount: 300, status: '正常' } },
  'E:other_restricted': { item: 'E-OTHER-RESTRICTED', payload: { subject: '海关稽查', content: '无异常' } },
  'P:basic': { item: 'P-BASIC', payload: { name: '李四', gender: '男' } },
  'P:public_credit': { item: 'P-DISHONEST', payload: { case_no: '(2025)桂07执9号', court: '钦州市中级人民法院', obligation: '给付货款' } },
  'P:commercial_credit': { item: 'P-UTILITY-ARREARS', payload: { utility: '水', amount: 320.5, since: '2026-01-01' } },
};

describe('the access matrix through POST /queries', () => {
  let p: TestPlatform;
  const auth: Partial<Record<Role, { id: string; auth: string }>> = {};
  const basisBody: Partial<Record<Role, object>> = {};
  const keys = new Map<string, string>(); // `${kind}:${own}` → record_key

  beforeAll(async () => {
    p = await startTestPlatform();
    for (const role of ROLES) {
      auth[role] = await principalWithKey(p.db, {
        name: `${role} 测试账号`,
        role,
        providerCode: role === 'provider' ? 'QZ-GSJ' : undefined,
        enterpriseUscc: role === 'enterprise' ? E_OWN : undefined,
        personId: role === 'person' ? P_OWN : undefined,
        organization: `${role} 单位`,
      });
    }
    for (const kind of KINDS) {
      for (const own of [true, false]) {
        const s = subjectFor(kind, own);
        keys.set(`${kind}:${own}`, await seedRecord(p.db, ITEM_OF[kind].item, s.type, s.id, ITEM_OF[kind].payload));
      }
    }
    // The rating agency's request for E_OWN, approved by staff (E14.3); duty proofs of the two bodies.
    const [rr] = await p
      .db('rating_requests')
      .insert({
        agency_principal_id: auth.rating_agency!.id,
        organization: 'rating_agency 单位',
        subject_uscc: E_OWN,
        categories: ['tax', 'financial', 'credit', 'other_restricted'],
        purpose: '信用评级',
        status: 'approved',
        decided_at: p.db.fn.now(),
        valid_until: p.db.raw(`now() + interval '30 days'`),
        workflow_id: 'rating-request-matrix',
      })
      .returning('id');
    basisBody.rating_agency = { kind: 'rating_approval', request_id: rr.id };
    for (const role of ['government', 'judicial'] as const) {
      const up = await request(p.app)
        .post('/documents?kind=duty_proof&file_name=proof.pdf')
        .set('Authorization', auth[role]!.auth)
        .set('Content-Type', 'application/pdf')
        .send(Buffer.from('%PDF-1.4 履职证明'));
      expect(up.status).toBe(201);
      basisBody[role] = { kind: 'duty', document_id: up.body.document.id };
    }
  }, 120000);
  afterAll(async () => {
    await p?.stop();
  });

  for (const role of MATRIX_ROLES) {
    for (const kind of KINDS) {
      for (const own of [true, false]) {
        const cell = expected(role, kind, own);
        test(`${role} × ${kind} × ${own ? 'own' : 'other'} → ${cell}`, async () => {
          const s = subjectFor(kind, own);
          const req = request(p.app).post('/queries');
          if (role !== 'public') req.set('Authorization', auth[role]!.auth);
          const basis = role === 'public' ? { kind: 'self' } : (basisBody[role] ?? { kind: 'self' });
          const before =
            role === 'public' ? 0 : Number((await p.db('query_log').where('principal_id', auth[role]!.id).count({ n: '*' }))[0].n);
          const res = await req.send({
            subject_type: s.type,
            subject_id: s.id,
            categories: [categoryOf(kind)],
            basis,
            purpose: '矩阵测试 / matrix test',
          });
          switch (cell) {
            case 'public':
              // Public information is read from the publication, not through a query (E12).
              expect(res.status).toBe(role === 'public' ? 401 : 400);
              if (role !== 'public') expect(res.body.error.details[0]).toMatchObject({ field: 'categories.0', article: 'E12' });
              return;
            case 'unauthenticated':
              expect(res.status).toBe(401);
              return;
            case 'allowed':
              expect(res.status).toBe(200);
              expect(res.body.query.categories).toEqual([categoryOf(kind)]);
              expect(res.body.records.map((r: { record_key: string }) => r.record_key)).toEqual([keys.get(`${kind}:${own}`)]);
              expect(res.body.records[0]).toMatchObject({ item_code: ITEM_OF[kind].item, category: categoryOf(kind), disputed: false });
              break;
            case 'refused':
              expect(res.status).toBe(403);
              expect(res.body.error.code).toBe('QUERY_REFUSED');
              expect(res.body.error.details[0].article).toMatch(/^(E1[34]|P1[234]|E22)/);
              expect(res.body).not.toHaveProperty('records');
              break;
          }
          // answered or refused, the query is logged (P20)
          const after = await p
            .db('query_log')
            .where('principal_id', auth[role as Role]!.id)
            .orderBy('id', 'desc');
          expect(after.length).toBe(before + 1);
          expect(after[0]).toMatchObject({
            subject_id: s.id,
            outcome: cell === 'allowed' ? 'answered' : 'refused',
            item_count: cell === 'allowed' ? 1 : 0,
          });
        });
      }
    }
  }
});
