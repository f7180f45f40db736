import type { Db } from '../../db/knex';
import { createPrincipal, issueApiKey, type NewPrincipal } from '../../db/principals';

/** A principal with a fresh API key, for tests: `auth` is the Authorization header value. */
export async function principalWithKey(db: Db, p: NewPrincipal): Promise<{ id: string; token: string; auth: string }> {
  const { id } = await createPrincipal(db, p, null, 'test');
  const { token } = await issueApiKey(db, id, { label: 'test' }, null, 'test');
  return { id, token, auth: `Bearer ${token}` };
}
