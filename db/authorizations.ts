import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn, isoInstant, type Conn } from './time';
import type { AuthorizationFacts, Subject } from '../domain/access';

/** Authorizations a subject grants to query its restricted (E14(2)) or personal (P12(2)) information. */

export interface NewAuthorization {
  subjectType: 'enterprise' | 'person';
  subjectId: string;
  granteePrincipalId: string | null;
  granteeOrganization: string | null;
  categories: string[];
  validFrom: string;
  validUntil: string;
  purpose: string;
  documentId: string;
}

const articleOf = (subjectType: string) => (subjectType === 'enterprise' ? 'E14(2)' : 'P12(2)');

export const authorizationColumns = (db: Conn) => [
  'a.id',
  'a.subject_type',
  'a.subject_id',
  'a.grantee_principal_id',
  'g.name as grantee_name',
  'a.grantee_organization',
  'a.categories',
  'a.valid_from',
  'a.valid_until',
  'a.purpose',
  'a.document_id',
  isoColumn(db, 'a.created_at'),
  isoColumn(db, 'a.revoked_at'),
  'a.revoke_reason',
];

/** An active principal that may be named as a grantee; undefined when there is none. */
export async function activeGrantee(db: Conn, principalId: string): Promise<{ id: string } | undefined> {
  return db('principals').where({ id: principalId, active: true }).first('id');
}

export async function createAuthorization(
  db: Db,
  a: NewAuthorization,
  by: { id: string; actor: string },
): Promise<Record<string, unknown>> {
  return db.transaction(async (trx) => {
    const [{ id }] = await trx('authorizations')
      .insert({
        subject_type: a.subjectType,
        subject_id: a.subjectId,
        granted_by: by.id,
        grantee_principal_id: a.granteePrincipalId,
        grantee_organization: a.granteeOrganization,
        categories: a.categories,
        valid_from: a.validFrom,
        valid_until: a.validUntil,
        purpose: a.purpose,
        document_id: a.documentId,
      })
      .returning('id');
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'authorization.grant',
      entity: 'authorization',
      id,
      article: articleOf(a.subjectType),
      detail: {
        subject_type: a.subjectType,
        subject_id: a.subjectId,
        grantee_principal_id: a.granteePrincipalId,
        grantee_organization: a.granteeOrganization,
        categories: a.categories,
        valid_from: a.validFrom,
        valid_until: a.validUntil,
        document_id: a.documentId,
      },
    });
    return (await trx('authorizations as a')
      .leftJoin('principals as g', 'g.id', 'a.grantee_principal_id')
      .where('a.id', id)
      .first(authorizationColumns(trx))) as Record<string, unknown>;
  });
}

/** Revokes an authorization of the subject; `not_found` when it is not the subject's, `already` when revoked. */
export async function revokeAuthorization(
  db: Db,
  id: string,
  subject: Subject,
  reason: string,
  by: { id: string; actor: string },
): Promise<{ kind: 'ok'; revokedAt: string } | { kind: 'not_found' } | { kind: 'already'; revokedAt: string }> {
  return db.transaction(async (trx) => {
    const cur = await trx('authorizations')
      .where({ id, subject_type: subject.type, subject_id: subject.id })
      .forUpdate()
      .first('id', 'revoked_at');
    if (!cur) return { kind: 'not_found' } as const;
    if (cur.revoked_at) return { kind: 'already', revokedAt: isoInstant(cur.revoked_at)! } as const;
    const [row] = await trx('authorizations')
      .where('id', id)
      .update({ revoked_at: trx.fn.now(), revoked_by: by.id, revoke_reason: reason })
      .returning('revoked_at');
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'authorization.revoke',
      entity: 'authorization',
      id,
      article: articleOf(subject.type),
      detail: { reason },
    });
    return { kind: 'ok', revokedAt: isoInstant(row.revoked_at)! } as const;
  });
}

/** Who reads authorizations: staff, administrators and supervisors see all; others what they granted or hold. */
export interface AuthorizationViewer {
  everything: boolean;
  principalId: string;
  organization: string | null;
  /** The viewer's own subject (an enterprise or a person), whose grants it sees. */
  subject: Subject | null;
}

const visibleTo = (db: Conn, v: AuthorizationViewer) =>
  db('authorizations as a')
    .leftJoin('principals as g', 'g.id', 'a.grantee_principal_id')
    .modify((b) => {
      if (v.everything) return;
      b.where((w) => {
        if (v.subject) w.orWhere({ 'a.subject_type': v.subject.type, 'a.subject_id': v.subject.id });
        w.orWhere('a.grantee_principal_id', v.principalId);
        if (v.organization) w.orWhere('a.grantee_organization', v.organization);
      });
    });

export async function listAuthorizations(
  db: Conn,
  v: AuthorizationViewer,
  page: { limit: number; offset: number },
): Promise<Record<string, unknown>[]> {
  return visibleTo(db, v).orderBy('a.created_at', 'desc').limit(page.limit).offset(page.offset).select(authorizationColumns(db));
}

/** One authorization the viewer may see; undefined otherwise. */
export async function getAuthorization(db: Conn, v: AuthorizationViewer, id: string): Promise<Record<string, unknown> | undefined> {
  return visibleTo(db, v).where('a.id', id).first(authorizationColumns(db));
}

function authorizationFacts(row: Record<string, unknown> | undefined): AuthorizationFacts | null {
  if (!row) return null;
  return {
    id: row.id as string,
    subjectType: row.subject_type as AuthorizationFacts['subjectType'],
    subjectId: row.subject_id as string,
    granteePrincipalId: (row.grantee_principal_id as string | null) ?? null,
    granteeOrganization: (row.grantee_organization as string | null) ?? null,
    categories: row.categories as string[],
    validFrom: row.valid_from as string,
    validUntil: row.valid_until as string,
    revokedAt: isoInstant(row.revoked_at),
  };
}

/** An authorization as a query's basis, with its written authorization document. */
export async function authorizationBasis(
  db: Conn,
  id: string,
): Promise<{ authorization: AuthorizationFacts | null; documentId: string | null; documentSha256: string | null }> {
  const row = await db('authorizations as a')
    .leftJoin('documents as d', 'd.id', 'a.document_id')
    .where('a.id', id)
    .first('a.*', 'd.sha256');
  return { authorization: authorizationFacts(row), documentId: row?.document_id ?? null, documentSha256: row?.sha256 ?? null };
}
