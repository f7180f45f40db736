/**
 * `npm run key -- --role admin --name "平台管理员"`: creates a principal and prints its API key, once, on stdout
 * (only a hash is stored). When stdout is not a terminal (`KEY=$(npm run -s key -- …)`), stdout carries the key alone
 * and everything else goes to stderr.
 *
 * Database: DATABASE_URL, or the embedded PostgreSQL — the running one when the platform is up, otherwise it is
 * started for this command and stopped afterwards. A new database is migrated and seeded first.
 */
import os from 'node:os';
import { PrincipalInputError, createPrincipal, issueApiKey } from '../db/principals';
import { checkCitizenId, checkUscc } from '../domain/identifiers';
import { ROLES, ROLE_NAMES_ZH } from '../domain/roles';
import { z } from '../domain/z';
import { PlatformError, describeError } from './platform';
import { httpUrl } from './http';
import { runDatabaseCommand } from './database-command';
import { commandLine } from './cli';

if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';

const USAGE = `用法 / usage:
  npm run key -- --role ROLE --name NAME [options]

  --role ROLE          ${ROLES.join(' | ')}
  --name NAME          账号名称 / name of the person or office, e.g. "平台管理员"
  --provider CODE      信息提供单位代码，role=provider 时必填 / provider code (required for --role provider), e.g. QZ-GSJ
  --enterprise USCC    统一社会信用代码，role=enterprise 时必填 / unified social credit code (required for --role enterprise)
  --person ID          公民身份号码，role=person 时必填 / citizen ID number (required for --role person)
  --organization TEXT  所属机构 / organization (agency, court, bank …)
  --expires-days N     密钥有效天数 / the key expires after N days (default: no expiry)
  -h, --help           显示本说明 / show this help

  example: npm run key -- --role admin --name "平台管理员"`;

const say = (m: string) => console.error(`[key] ${m}`);

const text = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} 不能为空 / must not be empty` })
    .max(200, { error: `${what} 过长 / too long (max 200)` });

const Options = z
  .object({
    role: z.enum(ROLES, { error: `--role 应为 / must be one of: ${ROLES.join(', ')}` }),
    name: text('--name'),
    provider: text('--provider').optional(),
    enterprise: z
      .string()
      .trim()
      .superRefine((v, ctx) => {
        const r = checkUscc(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.reason });
      })
      .optional(),
    person: z
      .string()
      .trim()
      .superRefine((v, ctx) => {
        const r = checkCitizenId(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.reason });
      })
      .optional(),
    organization: text('--organization').optional(),
    'expires-days': z.coerce
      .number({ error: '--expires-days 应为整数 / must be a whole number of days' })
      .int({ error: '--expires-days 应为整数 / must be a whole number of days' })
      .min(1, { error: '--expires-days 至少为 1 / must be at least 1' })
      .max(3650, { error: '--expires-days 最多 3650 / at most 3650 (10 years)' })
      .optional(),
  })
  .superRefine((o, ctx) => {
    const need = (role: string, option: 'provider' | 'enterprise' | 'person', what: string) => {
      if (o.role === role && o[option] === undefined) {
        ctx.addIssue({ code: 'custom', path: [option], message: `--role ${role} 须指定 --${option} / needs --${option} (${what})` });
      }
      if (o.role !== role && o[option] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [option], message: `--${option} 仅用于 --role ${role} / applies only to --role ${role}` });
      }
    };
    need('provider', 'provider', 'provider code, e.g. QZ-GSJ');
    need('enterprise', 'enterprise', 'unified social credit code');
    need('person', 'person', 'citizen ID number');
  });
type Options = z.infer<typeof Options>;

function parseOptions(argv: string[]): Options {
  // --help answered, an unknown argument refused in one line (scripts/cli.ts).
  const value = { value: 'required' } as const;
  const values = commandLine(
    'key',
    USAGE,
    { role: value, name: value, provider: value, enterprise: value, person: value, organization: value, 'expires-days': value },
    argv,
  );
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = i.path.length ? String(i.path[0]) : undefined;
      const option = key ? `--${key}` : 'options';
      const message =
        key && values[key] === undefined && i.path.length === 1 && i.code !== 'custom' ? `${option} 必填 / is required` : i.message;
      return `  ${message.startsWith('--') ? '' : `${option}: `}${message}`;
    });
    throw new PlatformError(`选项有误 / invalid options:\n${lines.join('\n')}\n\n${USAGE}`, 2);
  }
  return parsed.data;
}

let opts: Options;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof PlatformError ? e.message : describeError(e));
  process.exit(e instanceof PlatformError ? e.exitCode : 2);
}

runDatabaseCommand('key', say, async ({ db, config }) => {
  const actor = `cli:create-key (${os.userInfo().username}@${os.hostname()})`;
  let principal: { id: string };
  try {
    principal = await createPrincipal(
      db,
      {
        name: opts.name,
        role: opts.role,
        providerCode: opts.provider,
        enterpriseUscc: opts.enterprise,
        personId: opts.person,
        organization: opts.organization,
      },
      null,
      actor,
    );
  } catch (e) {
    if (!(e instanceof PrincipalInputError)) throw e;
    let hint = '';
    if (e.field === 'provider_code') {
      const codes = await db('providers').orderBy('code').pluck<string[]>('code');
      hint = `\n  已登记的信息提供单位 / known providers: ${codes.join(', ')}`;
    }
    throw new PlatformError(`${e.message}${hint}`, 2);
  }
  const expiresAt = opts['expires-days'] ? new Date(Date.now() + opts['expires-days'] * 86_400_000) : null;
  const key = await issueApiKey(db, principal.id, { label: 'npm run key', expiresAt }, null, actor);
  const api = httpUrl(config.apiHost, config.apiPort);
  if (!process.stdout.isTTY) {
    // Captured (KEY=$(npm run -s key -- …)): the key alone on stdout, the explanation on stderr.
    say(`已创建账号 / principal created: ${opts.name} — ${opts.role}, id ${principal.id}; key expires: ${key.expiresAt ?? 'never'}`);
    process.stdout.write(`${key.token}\n`);
    return 0;
  }
  console.log(
    [
      `已创建账号 / principal created: ${opts.name} — ${opts.role} (${ROLE_NAMES_ZH[opts.role]}), id ${principal.id}`,
      `密钥有效期 / key expires: ${key.expiresAt ?? '不过期 / never'}`,
      '',
      'API 密钥（只显示这一次，请立即妥善保存）/ API key (shown only this once — store it safely now):',
      '',
      `  ${key.token}`,
      '',
      '用法 / usage: send it in the Authorization header of every request, e.g.',
      `  export QZ_API_KEY='<the key above>'`,
      `  curl -H "Authorization: Bearer $QZ_API_KEY" ${api}/catalog`,
    ].join('\n'),
  );
  return 0;
});
