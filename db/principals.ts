import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn, isoInstant } from './time';
import { generateApiKey } from '../domain/keys';
import type { Role } from '../domain/roles';

/** Principals and their keys are managed under the security articles (E19, P26). */
const KEY_MANAGEMENT = 'E19, P26';

export interface NewPrincipal {
  name: string;
  role: Role;
  providerCode?: string;
  enterpriseUscc?: string;
  personId?: string;
  organization?: string;
}

export class PrincipalInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Creates a principal bound to its organization (a provider, an enterprise, a person or an agency). */
export async function createPrincipal(db: Db, p: NewPrincipal, createdBy: string | null, actor: string): Promise<{ id: string }> {
  return db.transaction(async (trx) => {
    let providerId: number | null = null;
    if (p.role === 'provider') {
      if (!p.providerCode)
        throw new PrincipalInputError('provider_code', '信息提供单位账号须指定 provider_code / a provider principal needs provider_code');
      const prov = await trx('providers').where('code', p.providerCode).first('id');
      if (!prov) throw new PrincipalInputError('provider_code', `未知的信息提供单位 ${p.providerCode} / unknown provider`);
      providerId = prov.id;
    }
    if (p.role === 'enterprise' && !p.enterpriseUscc)
      throw new PrincipalInputError('enterprise_uscc', '企业账号须指定统一社会信用代码 / an enterprise principal needs enterprise_uscc');
    if (p.role === 'person' && !p.personId)
      throw new PrincipalInputError('person_id', '个人账号须指定公民身份号码 / a person principal needs person_id');
    const [row] = await trx('principals')
      .insert({
        name: p.name,
        role: p.role,
        provider_id: providerId,
        enterprise_uscc: p.role === 'enterprise' ? p.enterpriseUscc : null,
        person_id: p.role === 'person' ? p.personId : null,
        organization: p.organization ?? null,
        created_by: createdBy,
      })
      .returning('id');
    await recordAudit(trx, {
      principalId: createdBy,
      actor,
      action: 'principal.create',
      entity: 'principal',
      id: row.id,
      article: KEY_MANAGEMENT,
      detail: { role: p.role, name: p.name, provider: p.providerCode ?? null },
    });
    return { id: row.id as string };
  });
}

/** Issues an API key; the token is returned once and only its hash is stored. */
export async function issueApiKey(
  db: Db,
  principalId: string,
  opts: { label?: string; expiresAt?: Date | null },
  createdBy: string | null,
  actor: string,
): Promise<{ id: string; token: string; prefix: string; expiresAt: string | null }> {
  const key = generateApiKey();
  return db.transaction(async (trx) => {
    const [row] = await trx('api_keys')
      .insert({
        principal_id: principalId,
        prefix: key.prefix,
        secret_hash: key.secretHash,
        label: opts.label ?? null,
        expires_at: opts.expiresAt ?? null,
      })
      .returning(['id', 'expires_at']);
    await recordAudit(trx, {
      principalId: createdBy,
      actor,
      action: 'api_key.issue',
      entity: 'principal',
      id: principalId,
      article: KEY_MANAGEMENT,
      detail: { prefix: key.prefix, label: opts.label ?? null },
    });
    return { id: row.id, token: key.token, prefix: key.prefix, expiresAt: isoInstant(row.expires_at) };
  });
}

// ─── Reads and state changes of the administration (api/routes/admin.ts) ─────────────────────────────────────

/** A principal as the administration shows it (with its provider's code). */
export interface PrincipalView {
  id: string;
  name: string;
  role: Role;
  provider: string | null;
  enterprise_uscc: string | null;
  person_id: string | null;
  organization: string | null;
  active: boolean;
  deactivated_at: string | null;
  deactivation_reason: string | null;
}

const principalColumns = (db: Db) => [
  'p.id',
  'p.name',
  'p.role',
  'pr.code as provider',
  'p.enterprise_uscc',
  'p.person_id',
  'p.organization',
  'p.active',
  isoColumn(db, 'p.deactivated_at'),
  'p.deactivation_reason',
];

export async function principalView(db: Db, id: string): Promise<PrincipalView | undefined> {
  return db('principals as p').leftJoin('providers as pr', 'pr.id', 'p.provider_id').where('p.id', id).first(principalColumns(db));
}

export async function listPrincipals(db: Db): Promise<PrincipalView[]> {
  return db('principals as p').leftJoin('providers as pr', 'pr.id', 'p.provider_id').orderBy('p.created_at').select(principalColumns(db));
}

/** What a principal is to one who signs with it (a rating agreement's agency). */
export async function principalById(
  db: Db,
  id: string,
): Promise<{ id: string; role: Role; active: boolean; organization: string | null } | undefined> {
  return db('principals').where('id', id).first('id', 'role', 'active', 'organization');
}

/** The active principal `id`, or undefined (no key is issued to an inactive one). */
export async function activePrincipal(db: Db, id: string): Promise<{ id: string } | undefined> {
  return db('principals').where({ id, active: true }).first('id');
}

export interface ApiKeyView {
  id: string;
  prefix: string;
  label: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  status: 'active' | 'expired' | 'revoked';
}

/** A principal's keys, oldest first, never the keys themselves. */
export async function principalKeys(db: Db, principalId: string): Promise<ApiKeyView[]> {
  return db('api_keys')
    .where('principal_id', principalId)
    .orderBy('created_at')
    .select(
      'id',
      'prefix',
      'label',
      isoColumn(db, 'created_at'),
      isoColumn(db, 'expires_at'),
      isoColumn(db, 'revoked_at'),
      isoColumn(db, 'last_used_at'),
      db.raw(`CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= now() THEN 'expired' ELSE 'active' END AS status`),
    );
}

/** Sets a principal's state in one transaction with its audit entry; false when it is already so. */
export async function setPrincipalActive(
  db: Db,
  c: { id: string; active: boolean; reason: string | undefined; by: { id: string; actor: string } },
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('principals')
      .where({ id: c.id, active: !c.active })
      .update(
        c.active
          ? { active: true, deactivated_at: null, deactivated_by: null, deactivation_reason: null }
          : { active: false, deactivated_at: trx.fn.now(), deactivated_by: c.by.id, deactivation_reason: c.reason },
      );
    if (n) {
      await recordAudit(trx, {
        principalId: c.by.id,
        actor: c.by.actor,
        action: c.active ? 'principal.activate' : 'principal.deactivate',
        entity: 'principal',
        id: c.id,
        article: KEY_MANAGEMENT,
        detail: { reason: c.reason ?? null },
      });
    }
    return n > 0;
  });
}

/** Revokes a key not yet revoked, with its audit entry; answers the revoked key, or undefined. */
export async function revokeApiKey(
  db: Db,
  id: string,
  by: { id: string; actor: string },
): Promise<{ id: string; revoked_at: Date; prefix: string } | undefined> {
  return db.transaction(async (trx) => {
    const updated = await trx('api_keys')
      .where('id', id)
      .whereNull('revoked_at')
      .update({ revoked_at: trx.fn.now() })
      .returning(['id', 'revoked_at', 'prefix']);
    if (updated.length) {
      await recordAudit(trx, {
        principalId: by.id,
        actor: by.actor,
        action: 'api_key.revoke',
        entity: 'api_key',
        id,
        article: KEY_MANAGEMENT,
        detail: { prefix: updated[0].prefix },
      });
    }
    return updated[0];
  });
}
