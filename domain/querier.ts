import type { Querier } from './access';
import type { Principal } from './roles';

/** The querier as the query log names it (P20): who asked, in which role, for which organization. */
export interface QuerierInfo extends Querier {
  name: string;
}

export function querierOf(p: Principal): QuerierInfo {
  return { id: p.id, name: p.name, role: p.role, organization: p.organization, enterpriseUscc: p.enterpriseUscc, personId: p.personId };
}

/** The audit actor of a querier (`role:name`). */
export const querierActor = (q: { role: string; name: string }) => `${q.role}:${q.name}`;
