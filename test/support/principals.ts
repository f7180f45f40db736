import type { Db } from '../../db/knex';
import { createPrincipal, issueApiKey, type NewPrincipal } from '../../db/principals';

/** A principal with a fresh API key, for tests: `auth` is the Authorization header value. */
export async function principalWithKey(db: Db, p: NewPrincipal): Promise<{ id: string; token: string; auth: string }> {
  const { id } = await createPrincipal(db, p, null, 'test');
  const { token } = await issueApiKey(db, id, { label: 'test' }, null, 'test');
  return { id, token, auth: `Bearer ${token}` };
}

/** Adds to `who[key]` a principal named `<key>账号` with a fresh key, for tests that act as many users. */
export async function addPrincipal(
  db: Db,
  who: Record<string, { id: string; auth: string }>,
  key: string,
  role: NewPrincipal['role'],
  extra: Partial<NewPrincipal> = {},
): Promise<void> {
  who[key] = await principalWithKey(db, { name: `${key}账号`, role, ...extra });
}
