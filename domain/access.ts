/**
 * Who may read what, on which basis (pure rules, no I/O).
 *
 * - Public enterprise information (E11, E12) is read by anyone from the publication; it needs no basis.
 * - Restricted enterprise information (E13: tax, assets and liabilities, credit, other restricted) only (E14):
 *   (1) the enterprise itself; (2) a party holding the enterprise's authorization; (3) an approved rating agency,
 *   per request approved by the platform or under an agreement the platform signed with it; (4) administrative and judicial bodies with a valid proof of duty
 *   (judicial bodies may also file a request that the platform answers within 3 working days).
 * - Personal information (P12): (1) the person; (2) a unit or person with the person's written authorization;
 *   (3) administrative, judicial and public-function bodies with a proof of duty, and then only the personal
 *   public credit information (社会公共信用信息, `public_credit`).
 * - Never beyond an authorization's scope or a body's duty (P14, E22): what lies outside is withheld.
 * - Fees (E16): enterprises and rating agencies pay; judicial bodies and other users exempt by law do not.
 */
import { ENTERPRISE_PUBLIC_CATEGORIES, ENTERPRISE_RESTRICTED_CATEGORIES, PERSON_CATEGORIES, type SubjectType } from './catalog';
import type { Role } from './roles';

export const BASIS_KINDS = ['self', 'authorization', 'rating_approval', 'rating_agreement', 'duty', 'judicial_request'] as const;
export type BasisKind = (typeof BASIS_KINDS)[number];

export const BASIS_NAMES_ZH: Record<BasisKind | 'public' | 'none', string> = {
  self: '本企业/本人查询',
  authorization: '信息主体授权',
  rating_approval: '经批准的信用评级机构查询',
  rating_agreement: '信用评级机构协议查询',
  duty: '因履行职责持证明查询',
  judicial_request: '司法机关查询申请',
  public: '公开信息',
  none: '无查询依据',
};

/** The information a query may ask for: restricted enterprise categories (E13) and every personal category (P6). */
export function protectedCategories(subjectType: SubjectType): readonly string[] {
  return subjectType === 'enterprise' ? ENTERPRISE_RESTRICTED_CATEGORIES : PERSON_CATEGORIES;
}

export function isPublicCategory(subjectType: SubjectType, category: string): boolean {
  return subjectType === 'enterprise' && (ENTERPRISE_PUBLIC_CATEGORIES as readonly string[]).includes(category);
}

/** The caller, as far as access depends on it. `null` is the public (no API key). */
export interface Querier {
  id: string;
  role: Role;
  organization: string | null;
  enterpriseUscc: string | null;
  personId: string | null;
}

export interface Subject {
  type: SubjectType;
  id: string;
}

export interface AuthorizationFacts {
  id: string;
  subjectType: SubjectType;
  subjectId: string;
  granteePrincipalId: string | null;
  granteeOrganization: string | null;
  categories: string[];
  /** YYYY-MM-DD, both days included. */
  validFrom: string;
  validUntil: string;
  revokedAt: string | null;
}

export interface RatingApprovalFacts {
  id: string;
  agencyPrincipalId: string;
  subjectUscc: string;
  categories: string[];
  status: 'requested' | 'approved' | 'rejected' | 'lapsed';
  /** ISO instant the approval ends. */
  validUntil: string | null;
}

/** An agreement between the platform and a rating agency (E14(3)): a standing approval within its scope. */
export interface RatingAgreementFacts {
  id: string;
  agencyPrincipalId: string;
  agreementNo: string;
  categories: string[];
  /** Unified social credit codes covered; null: any enterprise. */
  enterprises: string[] | null;
  /** YYYY-MM-DD, both days included. */
  validFrom: string;
  validUntil: string;
  terminatedAt: string | null;
}

export interface DutyProofFacts {
  documentId: string;
  kind: string;
  uploadedBy: string;
}

export interface JudicialRequestFacts {
  id: string;
  requesterPrincipalId: string;
  subjectType: SubjectType;
  subjectId: string;
}

/** The basis a query states, with what the database knows of it (null: no such authorization/request/document). */
export type BasisFacts =
  | { kind: 'self' }
  | { kind: 'authorization'; authorization: AuthorizationFacts | null }
  | { kind: 'rating_approval'; approval: RatingApprovalFacts | null }
  | { kind: 'rating_agreement'; agreement: RatingAgreementFacts | null }
  | { kind: 'duty'; proof: DutyProofFacts | null }
  | { kind: 'judicial_request'; request: JudicialRequestFacts | null };

export interface AccessRequest {
  querier: Querier | null;
  subject: Subject;
  /** Asked-for categories; empty: everything the basis allows. */
  categories: string[];
  basis: BasisFacts;
  /** Today in Asia/Shanghai (YYYY-MM-DD) and the current instant (ISO). */
  today: string;
  now: string;
}

export interface Withheld {
  category: string;
  reason: string;
  article: string;
}

export type Fee = 'chargeable' | 'free';

export type AccessDecision =
  | { ok: true; basis: BasisKind; allowed: string[]; withheld: Withheld[]; fee: Fee; article: string }
  | { ok: false; basis: BasisKind; code: string; reason: string; article: string; withheld: Withheld[]; fee: Fee };

/** E16: a paid service for enterprises and rating agencies; free for judicial bodies and other users. */
export function feeFor(role: Role): Fee {
  return role === 'enterprise' || role === 'rating_agency' ? 'chargeable' : 'free';
}

const refuse = (basis: BasisKind, code: string, reason: string, article: string, withheld: Withheld[] = []): AccessDecision => ({
  ok: false,
  basis,
  code,
  reason,
  article,
  withheld,
  fee: 'free',
});

/** Within `scope`; what lies outside is withheld with the article that forbids it. */
function within(
  requested: string[],
  scope: readonly string[],
  reason: string,
  article: string,
): { allowed: string[]; withheld: Withheld[] } {
  const allowed = requested.filter((c) => scope.includes(c));
  const withheld = requested.filter((c) => !scope.includes(c)).map((category) => ({ category, reason, article }));
  return { allowed, withheld };
}

/**
 * Decides a query: which of the asked-for categories the basis allows (the rest withheld, with the reason and
 * the article), or a refusal with its reason and article. Public enterprise categories are not asked through a
 * query (they are read from the publication); asking for them is an input error the caller reports.
 */
export function decideAccess(req: AccessRequest): AccessDecision {
  const { querier: q, subject, basis } = req;
  const all = protectedCategories(subject.type);
  const requested = req.categories.length ? [...new Set(req.categories)] : [...all];
  const ent = subject.type === 'enterprise';

  if (!q) return refuse(basis.kind, 'UNAUTHENTICATED', '查询限制公开或个人信息须先认证身份 / identify yourself first', ent ? 'E14' : 'P12');

  const granted = (allowed: string[], withheld: Withheld[], article: string): AccessDecision =>
    allowed.length
      ? { ok: true, basis: basis.kind, allowed, withheld, fee: feeFor(q.role), article }
      : refuse(
          basis.kind,
          'BEYOND_SCOPE',
          '所请求的信息均超出查询依据的范围 / everything asked for lies outside the basis',
          withheld[0]?.article ?? article,
          withheld,
        );

  switch (basis.kind) {
    case 'self': {
      const own = ent ? q.role === 'enterprise' && q.enterpriseUscc === subject.id : q.role === 'person' && q.personId === subject.id;
      if (!own) {
        return refuse(
          'self',
          'NOT_SELF',
          ent
            ? '只有企业本身可以本企业身份查询 / only the enterprise itself may query as itself'
            : '只有信息主体本人可以本人身份查询 / only the person may query as themself',
          ent ? 'E14(1)' : 'P12(1)',
        );
      }
      return granted(requested, [], ent ? 'E14(1)' : 'P12(1)');
    }

    case 'authorization': {
      const a = basis.authorization;
      const article = ent ? 'E14(2)' : 'P12(2)';
      if (!a || a.subjectType !== subject.type || a.subjectId !== subject.id)
        return refuse(
          'authorization',
          'AUTHORIZATION_NOT_FOUND',
          '该信息主体没有这份授权 / no such authorization from this subject',
          article,
        );
      const isGrantee =
        a.granteePrincipalId === q.id ||
        (a.granteeOrganization !== null && q.organization !== null && a.granteeOrganization === q.organization);
      if (!isGrantee)
        return refuse('authorization', 'NOT_GRANTEE', '授权的被授权人不是您 / the authorization was not granted to you', article);
      if (a.revokedAt) return refuse('authorization', 'AUTHORIZATION_REVOKED', '授权已撤销 / the authorization was revoked', article);
      if (req.today < a.validFrom)
        return refuse(
          'authorization',
          'AUTHORIZATION_NOT_YET_VALID',
          `授权自 ${a.validFrom} 起生效 / the authorization is valid from ${a.validFrom}`,
          article,
        );
      if (req.today > a.validUntil)
        return refuse(
          'authorization',
          'AUTHORIZATION_EXPIRED',
          `授权已于 ${a.validUntil} 到期 / the authorization expired on ${a.validUntil}`,
          article,
        );
      const { allowed, withheld } = within(
        requested,
        a.categories,
        '超出授权范围 / beyond the scope of the authorization',
        ent ? 'E22' : 'P14',
      );
      return granted(allowed, withheld, article);
    }

    case 'rating_approval': {
      const a = basis.approval;
      if (q.role !== 'rating_agency')
        return refuse(
          'rating_approval',
          'NOT_RATING_AGENCY',
          '仅经资质认定的信用评级机构可凭批准查询 / only rating agencies query on an approval',
          'E14(3)',
        );
      if (!ent)
        return refuse(
          'rating_approval',
          'PERSON_NEEDS_AUTHORIZATION',
          "查询个人信用信息须经信息主体书面授权 / personal information needs the person's written authorization",
          'P12(2)',
        );
      if (!a || a.agencyPrincipalId !== q.id || a.subjectUscc !== subject.id)
        return refuse(
          'rating_approval',
          'APPROVAL_NOT_FOUND',
          '没有针对该企业的查询申请 / no request of yours for this enterprise',
          'E14(3)',
        );
      if (a.status !== 'approved') {
        const why = {
          requested: '查询申请尚待审批 / the request awaits approval',
          rejected: '查询申请未获批准 / the request was rejected',
          lapsed: '查询申请已逾期未审批，已失效 / the request lapsed undecided',
          approved: '',
        }[a.status];
        return refuse('rating_approval', `REQUEST_${a.status.toUpperCase()}`, why, 'E14(3)');
      }
      if (!a.validUntil || req.now > a.validUntil)
        return refuse('rating_approval', 'APPROVAL_EXPIRED', '批准的查询期限已过 / the approval has expired', 'E14(3)');
      const { allowed, withheld } = within(requested, a.categories, '超出批准的查询范围 / beyond the approved scope', 'E14(3), E22');
      return granted(allowed, withheld, 'E14(3)');
    }

    case 'rating_agreement': {
      const a = basis.agreement;
      const article = 'E14(3)';
      if (q.role !== 'rating_agency')
        return refuse(
          'rating_agreement',
          'NOT_RATING_AGENCY',
          '仅经资质认定的信用评级机构可凭协议查询 / only rating agencies query under an agreement',
          article,
        );
      if (!ent)
        return refuse(
          'rating_agreement',
          'PERSON_NEEDS_AUTHORIZATION',
          "查询个人信用信息须经信息主体书面授权，评级协议不适用 / personal information needs the person's written authorization; an agreement does not reach it",
          'E14(3), P12(2)',
        );
      if (!a || a.agencyPrincipalId !== q.id)
        return refuse(
          'rating_agreement',
          'AGREEMENT_NOT_FOUND',
          '没有与贵机构签订的这份协议 / no such agreement with your agency',
          article,
        );
      if (a.terminatedAt)
        return refuse('rating_agreement', 'AGREEMENT_TERMINATED', `协议 ${a.agreementNo} 已终止 / the agreement was terminated`, article);
      if (req.today < a.validFrom)
        return refuse(
          'rating_agreement',
          'AGREEMENT_NOT_YET_VALID',
          `协议 ${a.agreementNo} 自 ${a.validFrom} 起生效 / the agreement is valid from ${a.validFrom}`,
          article,
        );
      if (req.today > a.validUntil)
        return refuse(
          'rating_agreement',
          'AGREEMENT_EXPIRED',
          `协议 ${a.agreementNo} 已于 ${a.validUntil} 到期 / the agreement expired on ${a.validUntil}`,
          article,
        );
      if (a.enterprises && !a.enterprises.includes(subject.id)) {
        return refuse(
          'rating_agreement',
          'ENTERPRISE_NOT_COVERED',
          `协议 ${a.agreementNo} 不包括该企业 / the agreement does not cover this enterprise`,
          article,
        );
      }
      const { allowed, withheld } = within(
        requested,
        a.categories,
        '超出协议约定的查询范围 / beyond the scope of the agreement',
        'E14(3), E22',
      );
      return granted(allowed, withheld, article);
    }

    case 'duty': {
      if (q.role !== 'government' && q.role !== 'judicial') {
        return refuse(
          'duty',
          'NOT_DUTY_BODY',
          '仅行政机关、司法机关及具有公共管理职能的组织可凭履职证明查询 / only administrative, judicial and public-function bodies query for duty',
          ent ? 'E14(4)' : 'P12(3)',
        );
      }
      const p = basis.proof;
      if (!p || p.kind !== 'duty_proof' || p.uploadedBy !== q.id) {
        return refuse(
          'duty',
          'DUTY_PROOF_INVALID',
          '须提交本单位出具的有效履职证明文件 / a valid proof of duty of your own is required',
          ent ? 'E14(4)' : 'P12(3)',
        );
      }
      if (ent) return granted(requested, [], 'E14(4)');
      const { allowed, withheld } = within(
        requested,
        ['public_credit'],
        '因履职查询仅限个人社会公共信用信息 / duty queries reach only public credit information',
        'P12(3), P14',
      );
      return granted(allowed, withheld, 'P12(3)');
    }

    case 'judicial_request': {
      const r = basis.request;
      if (q.role !== 'judicial')
        return refuse(
          'judicial_request',
          'NOT_JUDICIAL',
          '仅司法机关可提出查询申请 / only judicial bodies file query requests',
          ent ? 'E14(4)' : 'P13',
        );
      if (!r || r.requesterPrincipalId !== q.id || r.subjectType !== subject.type || r.subjectId !== subject.id) {
        return refuse('judicial_request', 'REQUEST_NOT_FOUND', '没有这份查询申请 / no such request', ent ? 'E14(4)' : 'P13');
      }
      if (ent) return granted(requested, [], 'E14(4)');
      const { allowed, withheld } = within(
        requested,
        ['public_credit'],
        '司法机关查询个人信息仅限社会公共信用信息 / judicial queries reach only public credit information',
        'P12(3), P14',
      );
      return granted(allowed, withheld, 'P13');
    }
  }
}

/** Working days the platform has to answer a judicial query request (E14.4, P13: "一般在3个工作日内"). */
export const JUDICIAL_ANSWER_WORKING_DAYS = 3;
/** Staff are alerted this many working days before a judicial answer is due. */
export const JUDICIAL_ALERT_WORKING_DAYS_BEFORE = 1;
