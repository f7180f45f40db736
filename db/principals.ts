import type { Db } from './knex';
import { generateApiKey } from '../domain/keys';
import type { Role } from '../domain/roles';

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
      if (!p.providerCode) throw new PrincipalInputError('provider_code', '信息提供单位账号须指定 provider_code / a provider principal needs provider_code');
      const prov = await trx('providers').where('code', p.providerCode).first('id');
      if (!prov) throw new PrincipalInputError('provider_code', `未知的信息提供单位 ${p.providerCode} / unknown provider`);
      providerId = prov.id;
    }
    if (p.role === 'enterprise' && !p.enterpriseUscc) throw new PrincipalInputError('enterprise_uscc', '企业账号须指定统一社会信用代码 / an enterprise principal needs enterprise_uscc');
    if (p.role === 'person' && !p.personId) throw new PrincipalInputError('person_id', '个人账号须指定公民身份号码 / a person principal needs person_id');
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
    await trx('audit_log').insert({
      principal_id: createdBy,
      actor,
      action: 'principal.create',
      entity: 'principal',
      entity_id: row.id,
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
      .insert({ principal_id: principalId, prefix: key.prefix, secret_hash: key.secretHash, label: opts.label ?? null, expires_at: opts.expiresAt ?? null })
      .returning(['id', 'expires_at']);
    await trx('audit_log').insert({
      principal_id: createdBy,
      actor,
      action: 'api_key.issue',
      entity: 'principal',
      entity_id: principalId,
      detail: { prefix: key.prefix, label: opts.label ?? null },
    });
    return { id: row.id, token: key.token, prefix: key.prefix, expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : null };
  });
}
