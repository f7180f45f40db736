/** Roles of the SPEC's "Who uses it" table. */
export const ROLES = [
  'provider',
  'staff',
  'admin',
  'supervisor',
  'enterprise',
  'person',
  'rating_agency',
  'government',
  'judicial',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_NAMES_ZH: Record<Role, string> = {
  provider: '信息提供单位',
  staff: '市信用信息征集服务机构',
  admin: '市社会信用体系建设管理机构',
  supervisor: '监督（提请监察）',
  enterprise: '企业',
  person: '个人',
  rating_agency: '信用评级机构',
  government: '行政机关',
  judicial: '司法机关',
};

export interface Principal {
  id: string;
  name: string;
  role: Role;
  providerId: number | null;
  providerCode: string | null;
  enterpriseUscc: string | null;
  personId: string | null;
  organization: string | null;
}
