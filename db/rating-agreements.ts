import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn, isoInstant, type Conn } from './time';
import type { RatingAgreementFacts } from '../domain/access';

/**
 * Rating-agency agreements (E14(3)): a standing approval, signed by the platform's staff, of a rating agency's
 * queries within the agreement's categories, enterprises and period.
 */

export const RATING_AGREEMENT_STATUSES = ['active', 'upcoming', 'expired', 'terminated'] as const;
export type RatingAgreementStatus = (typeof RATING_AGREEMENT_STATUSES)[number];

/** An agreement's status on `today` (Shanghai): terminated, expired (past valid_until), upcoming (before valid_from) or active. */
const agreementStatusSql = `CASE WHEN a.terminated_at IS NOT NULL THEN 'terminated' WHEN a.valid_until < ?::date THEN 'expired' WHEN a.valid_from > ?::date THEN 'upcoming' ELSE 'active' END`;

export const ratingAgreementColumns = (db: Conn, today: string) => [
  'a.id',
  'a.agency_principal_id',
  'p.name as agency_name',
  'a.organization',
  'a.agreement_no',
  'a.categories',
  'a.enterprises',
  'a.purpose',
  'a.valid_from',
  'a.valid_until',
  'a.document_id',
  db.raw(`${agreementStatusSql} as status`, [today, today]),
  'a.created_by',
  isoColumn(db, 'a.created_at'),
  isoColumn(db, 'a.terminated_at'),
  'a.terminated_by',
  'a.termination_reason',
];

function ratingAgreementFacts(row: Record<string, unknown> | undefined): RatingAgreementFacts | null {
  if (!row) return null;
  return {
    id: row.id as string,
    agencyPrincipalId: row.agency_principal_id as string,
    agreementNo: row.agreement_no as string,
    categories: row.categories as string[],
    enterprises: (row.enterprises as string[] | null) ?? null,
    validFrom: row.valid_from as string,
    validUntil: row.valid_until as string,
    terminatedAt: isoInstant(row.terminated_at),
  };
}

export interface RatingAgreementFilter {
  /** Only this agency's agreements (a rating agency sees its own only). */
  agencyPrincipalId?: string;
  status?: RatingAgreementStatus;
  today: string;
  limit: number;
  offset: number;
}

const ratingAgreementsFrom = (db: Conn, agencyPrincipalId: string | undefined) =>
  db('rating_agreements as a')
    .join('principals as p', 'p.id', 'a.agency_principal_id')
    .modify((b) => {
      if (agencyPrincipalId) b.where('a.agency_principal_id', agencyPrincipalId);
    });

export async function listRatingAgreements(db: Conn, f: RatingAgreementFilter): Promise<Record<string, unknown>[]> {
  return ratingAgreementsFrom(db, f.agencyPrincipalId)
    .modify((b) => {
      if (f.status) b.whereRaw(`${agreementStatusSql} = ?`, [f.today, f.today, f.status]);
    })
    .orderBy([{ column: 'a.created_at', order: 'desc' }, { column: 'a.id' }])
    .limit(f.limit)
    .offset(f.offset)
    .select(ratingAgreementColumns(db, f.today));
}

/** One agreement; undefined when there is none or (with `agencyPrincipalId`) it is another agency's. */
export async function getRatingAgreement(
  db: Conn,
  id: string,
  today: string,
  agencyPrincipalId?: string,
): Promise<Record<string, unknown> | undefined> {
  return ratingAgreementsFrom(db, agencyPrincipalId).where('a.id', id).first(ratingAgreementColumns(db, today));
}

export interface NewRatingAgreement {
  agencyPrincipalId: string;
  organization: string | null;
  agreementNo: string;
  categories: string[];
  enterprises: string[] | null;
  purpose: string;
  validFrom: string;
  validUntil: string;
  documentId: string | null;
}

/** Records a signed agreement with its audit entry, in one transaction; `duplicate` when its number is taken. */
export async function createRatingAgreement(
  db: Db,
  a: NewRatingAgreement,
  by: { id: string; actor: string },
  today: string,
): Promise<{ kind: 'ok'; agreement: Record<string, unknown> } | { kind: 'duplicate' }> {
  try {
    return await db.transaction(async (trx) => {
      const [{ id }] = await trx('rating_agreements')
        .insert({
          agency_principal_id: a.agencyPrincipalId,
          organization: a.organization,
          agreement_no: a.agreementNo,
          categories: a.categories,
          enterprises: a.enterprises,
          purpose: a.purpose,
          valid_from: a.validFrom,
          valid_until: a.validUntil,
          document_id: a.documentId,
          created_by: by.id,
        })
        .returning('id');
      await recordAudit(trx, {
        principalId: by.id,
        actor: by.actor,
        action: 'rating_agreement.create',
        entity: 'rating_agreement',
        id,
        article: 'E14(3)',
        detail: {
          agency_principal_id: a.agencyPrincipalId,
          agreement_no: a.agreementNo,
          categories: a.categories,
          enterprises: a.enterprises,
          valid_from: a.validFrom,
          valid_until: a.validUntil,
          document_id: a.documentId,
        },
      });
      return { kind: 'ok', agreement: (await getRatingAgreement(trx, id, today))! } as const;
    });
  } catch (e) {
    const err = e as { code?: string; constraint?: string };
    if (err.code === '23505' && err.constraint === 'rating_agreements_agreement_no') return { kind: 'duplicate' };
    throw e;
  }
}

/** Ends an agreement at once, with its audit entry; `already` when it was terminated before. */
export async function terminateRatingAgreement(
  db: Db,
  id: string,
  reason: string,
  by: { id: string; actor: string },
): Promise<{ kind: 'ok'; terminatedAt: string } | { kind: 'not_found' } | { kind: 'already'; terminatedAt: string }> {
  return db.transaction(async (trx) => {
    const cur = await trx('rating_agreements').where('id', id).forUpdate().first('id', 'agreement_no', 'terminated_at');
    if (!cur) return { kind: 'not_found' } as const;
    if (cur.terminated_at) return { kind: 'already', terminatedAt: isoInstant(cur.terminated_at)! } as const;
    const [row] = await trx('rating_agreements')
      .where('id', id)
      .update({ terminated_at: trx.fn.now(), terminated_by: by.id, termination_reason: reason })
      .returning('terminated_at');
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'rating_agreement.terminate',
      entity: 'rating_agreement',
      id,
      article: 'E14(3)',
      detail: { agreement_no: cur.agreement_no, reason },
    });
    return { kind: 'ok', terminatedAt: isoInstant(row.terminated_at)! } as const;
  });
}

/** An agreement as a query's basis, with its signed copy. */
export async function ratingAgreementBasis(
  db: Conn,
  id: string,
): Promise<{ agreement: RatingAgreementFacts | null; documentId: string | null; documentSha256: string | null }> {
  const row = await db('rating_agreements as a')
    .leftJoin('documents as d', 'd.id', 'a.document_id')
    .where('a.id', id)
    .first('a.*', 'd.sha256');
  return { agreement: ratingAgreementFacts(row), documentId: row?.document_id ?? null, documentSha256: row?.sha256 ?? null };
}

/** Whether the document is the signed copy of an agreement of this agency. */
export async function isAgreementDocumentOf(db: Conn, documentId: string, agencyPrincipalId: string): Promise<boolean> {
  return Boolean(await db('rating_agreements').where({ document_id: documentId, agency_principal_id: agencyPrincipalId }).first('id'));
}
