import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
  type ZodRequestBody,
} from '@asteasolutions/zod-to-openapi';
import type { ZodError, ZodType } from 'zod';
import { z } from '../domain/z';
import { checkUscc, withCitizenIdCheck, withUsccCheck } from '../domain/identifiers';
import { HttpError, OUTAGE_RETRY_AFTER_SECONDS, forbidden, zodDetails } from './errors';

/** The OpenAPI document is generated from the same zod schemas the routes validate with. */
export const registry = new OpenAPIRegistry();

registry.registerComponent('securitySchemes', 'apiKey', {
  type: 'http',
  scheme: 'bearer',
  description: 'API 密钥 / API key: `Authorization: Bearer qzk_…`',
});

/** A credit code with its check character mistyped, and the reason the API gives for it. */
function mistyped(uscc: string): { code: string; reason: string } {
  const code = `${uscc.slice(0, 17)}${uscc[17] === 'A' ? 'B' : 'A'}`;
  const check = checkUscc(code);
  return { code, reason: check.ok ? '' : check.reason };
}

/**
 * Who the examples are about: enterprises and people of Qinzhou, invented, each with an identifier that passes
 * its check (GB 32100-2015, GB 11643-1999), and the ids the examples share.
 */
export const EXAMPLE = {
  enterprise: { uscc: withUsccCheck('91450702MA5N7D2K3'), name: '钦州市钦南区海湾建材有限公司' },
  /** The first enterprise's code with its last character mistyped, and what the check says of it. */
  mistypedUscc: mistyped(withUsccCheck('91450702MA5N7D2K3')),
  enterprise2: { uscc: withUsccCheck('91450703MA5KQ8R1X'), name: '钦州市钦北区禾丰农业发展有限公司' },
  enterprise3: { uscc: withUsccCheck('91450721MA5L2T6P0'), name: '灵山县荔乡食品有限公司' },
  person: { citizenId: withCitizenIdCheck('45070219880315002'), name: '李秀梅' },
  person2: { citizenId: withCitizenIdCheck('45072119750122003'), name: '黄志强' },
  submissionId: '0192c4e0-3f1a-7b6d-8e25-4a9c1d7f0b38',
  recordKey: '0192c4e1-5b7a-7f3e-9a41-6d2b8c0e7f15',
  documentId: '5d0f8a3e-2c47-4b91-a6e8-1f3b9c7d2e40',
  principalId: '7a3e9c21-48d5-4f0b-b6a2-9e1c5d8f3a67',
};

/** Whether the process an accepted request runs in has started: `pending` while Temporal is away (it starts when back). */
export const WorkflowStart = z
  .enum(['started', 'pending'])
  .describe('流程已启动，或待流程引擎恢复后自动启动 / the workflow started, or starts when the process engine is back');

export const ErrorBody = registry.register(
  'Error',
  z.object({
    error: z.object({
      code: z.string().openapi({ description: '错误代码 / the error code', example: 'BAD_REQUEST' }),
      message: z.string().openapi({ description: '说明，先中文后英文 / what went wrong, in Chinese first, then English' }),
      details: z
        .array(
          z.object({
            row: z.number().int().optional().openapi({
              description: '批次中的行（从 1 起；0 为表头或整个请求体）/ the batch row (from 1; 0: the header or the whole body)',
            }),
            field: z.string().openapi({ description: '出错的字段 / the field at fault' }),
            reason: z.string().openapi({ description: '原因，先中文后英文 / why, in Chinese first, then English' }),
            article: z.string().optional().openapi({ description: '所依据的条款 / the article broken (E…, P…, GB …)' }),
            record_key: z
              .string()
              .optional()
              .openapi({ description: '所重复的已存记录（DUPLICATE_RECORDS）/ the stored record a row repeats' }),
          }),
        )
        .optional(),
      error_count: z
        .number()
        .int()
        .optional()
        .openapi({ description: '被拒批次的问题总数（details 最多列出 MAX_REPORTED_ERRORS 条）/ a refused batch: problems in all' }),
      rows_read: z.number().int().optional().openapi({ description: '被拒批次已读的行数 / a refused batch: rows read' }),
      stored: z
        .number()
        .int()
        .optional()
        .openapi({ description: '被拒批次入库的记录数：总是 0 / a refused batch: records stored, always 0' }),
      year: z
        .number()
        .int()
        .optional()
        .openapi({ description: '尚未载入工作日历的年份（CALENDAR_YEAR_UNKNOWN）/ the year with no working-day calendar' }),
      state: z.string().optional().openapi({ description: '异议的当前状态（OBJECTION_STATE_CONFLICT）/ the objection’s state' }),
      refusal: z.string().optional().openapi({ description: '拒绝查询的原因代码（QUERY_REFUSED）/ why a query was refused' }),
      query_id: z
        .number()
        .int()
        .optional()
        .openapi({ description: '被拒查询的记录编号（QUERY_REFUSED，已记录）/ the logged query refused' }),
    }),
  }),
);

// ─── Examples of errors, as api/errors.ts answers them ───────────────────────────────────────────────────────

/** The body the API answers for an error (`errorHandler` in api/errors.ts). */
export const errorBodyOf = (e: HttpError) => ({ error: { code: e.code, message: e.message, details: e.details, ...e.extra } });

type Example = { summary: string; value: unknown } | { $ref: string };
type Examples = Record<string, Example>;
type Headers = Record<string, { description: string; schema: { type: 'integer' | 'string'; example?: unknown } }>;
type Answer = RouteConfig['responses'][string];
type ReferenceObject = { $ref: string };

/** The status each answer made by `errorAnswer` is for: `document` refuses one filed under another status. */
const statusOfAnswer = new WeakMap<object, number>();

/** An outage: the client may try again in OUTAGE_RETRY_AFTER_SECONDS. */
const RETRY_AFTER: Headers = {
  'Retry-After': {
    description: '建议多少秒后重试 / seconds to wait before trying again',
    schema: { type: 'integer', example: OUTAGE_RETRY_AFTER_SECONDS },
  },
};
/** A limit reached: until its window lets the client in again (a minute at most). */
const RETRY_AFTER_LIMIT: Headers = {
  'Retry-After': {
    description: '限额窗口重置前的秒数（最多 60）/ seconds until the window lets the client in again (60 at most)',
    schema: { type: 'integer', example: 42 },
  },
};
const RATE_LIMIT: Headers = {
  ...RETRY_AFTER_LIMIT,
  RateLimit: { description: '本窗口剩余次数及重置秒数（IETF draft-8）/ what is left of the window', schema: { type: 'string' } },
  'RateLimit-Policy': { description: '限额与窗口（IETF draft-8）/ the limit and its window', schema: { type: 'string' } },
};
const headersFor = (status: number) => (status === 503 ? RETRY_AFTER : status === 429 ? RETRY_AFTER_LIMIT : undefined);

function examplesOf(errors: HttpError[]): Examples {
  const out: Examples = {};
  for (const e of errors) {
    let key = e.code;
    for (let i = 2; key in out; i++) key = `${e.code}_${i}`;
    out[key] = { summary: e.message, value: errorBodyOf(e) };
  }
  return out;
}

/**
 * An error answer of a route, with an example of each error given (all of one status), as the API answers them:
 * `errorAnswer('已撤销 / revoked already', new HttpError(409, 'ALREADY_REVOKED', …))`.
 */
export function errorAnswer(description: string, ...errors: [HttpError, ...HttpError[]]): ResponseConfig {
  const status = errors[0].status;
  const stray = errors.find((e) => e.status !== status);
  if (stray) throw new Error(`errorAnswer "${description}": ${stray.code} is a ${stray.status}, not a ${status}`);
  const headers = headersFor(status);
  const answer: ResponseConfig = {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: ErrorBody, examples: examplesOf(errors) } },
  };
  statusOfAnswer.set(answer, status);
  return answer;
}

/** A JSON request body with its example; the example has the type the schema takes, and is checked against it. */
export function jsonRequest<T extends ZodType>(
  schema: T,
  example: z.input<T>,
  opts: { description?: string; required?: boolean } = {},
): ZodRequestBody {
  return { ...opts, content: { 'application/json': { schema, example } } };
}

/** A JSON request body with several named examples (e.g. one per kind of a discriminated union). */
export function jsonRequestExamples<T extends ZodType>(
  schema: T,
  examples: Record<string, { summary: string; value: z.input<T> }>,
  opts: { description?: string; required?: boolean } = {},
): ZodRequestBody {
  return { ...opts, content: { 'application/json': { schema, examples } } };
}

/** An answer shared by many routes: registered once (its examples too), referred to by each route. */
interface CommonAnswer {
  ref: ReferenceObject;
  description: string;
  headers?: Headers;
  examples: Examples;
}

function commonAnswer(name: string, description: string, headers: Headers | undefined, errors: Record<string, HttpError>): CommonAnswer {
  const examples: Examples = {};
  for (const [key, e] of Object.entries(errors)) {
    registry.registerComponent('examples', `${name}.${key}`, { summary: e.message, value: errorBodyOf(e) });
    examples[key] = { $ref: `#/components/examples/${name}.${key}` };
  }
  registry.registerComponent('responses', name, {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, examples } },
  });
  return { ref: { $ref: `#/components/responses/${name}` }, description, headers, examples };
}

const unauthorized = (why: string) => new HttpError(401, 'UNAUTHORIZED', `未认证：${why} / authentication required`);

/** No key, a malformed key, a key unknown, expired or revoked (api/auth.ts). */
const UNAUTHORIZED = commonAnswer(
  'Unauthorized',
  '未认证：缺少 API 密钥，或密钥格式错误、无效、已过期、已吊销 / no API key, or a malformed, unknown, expired or revoked one',
  undefined,
  {
    missing_key: unauthorized('需要 API 密钥 / an API key is required'),
    malformed_key: unauthorized('API 密钥格式错误 / malformed API key'),
    invalid_key: unauthorized('API 密钥无效、已过期或已吊销 / invalid, expired or revoked API key'),
  },
);

/** A role the route is not for (the roles named are the route's own), or an act the role may not take. */
const FORBIDDEN = commonAnswer(
  'Forbidden',
  '无权限：角色不符（所列角色因接口而异），或无权执行此操作 / not for your role (the roles named are the route’s own), or not allowed',
  undefined,
  {
    role: forbidden('该操作仅限 admin / only for admin'),
    not_allowed: forbidden(),
  },
);

/** More failed authentications from one address than AUTH_FAILURE_LIMIT (30) a minute (api/auth.ts). */
const AUTH_THROTTLED = commonAnswer(
  'TooManyFailedAuthentications',
  '认证失败次数过多：本地址一分钟内认证失败超过 AUTH_FAILURE_LIMIT 次 / too many failed authentications from this address',
  RETRY_AFTER_LIMIT,
  {
    TOO_MANY_FAILED_AUTHENTICATIONS: new HttpError(
      429,
      'TOO_MANY_FAILED_AUTHENTICATIONS',
      '认证失败次数过多，请一分钟后再试（每分钟最多 30 次）/ too many failed authentications from this address; try again in a minute',
      [{ field: 'authorization', reason: '认证失败次数超限 / failed authentications over the limit' }],
    ),
  },
);

/** The public allowance (PUBLIC_RATE_LIMIT, 300 a minute per client address; api/public-limit.ts). */
const PUBLIC_LIMITED = commonAnswer(
  'TooManyRequests',
  '请求过于频繁：无密钥的请求每个地址每分钟最多 PUBLIC_RATE_LIMIT 次 / too many requests: PUBLIC_RATE_LIMIT a minute per address without a key',
  RATE_LIMIT,
  {
    TOO_MANY_REQUESTS: new HttpError(
      429,
      'TOO_MANY_REQUESTS',
      '请求过于频繁，请稍后再试（每分钟最多 300 次）/ too many requests: at most 300 a minute, try again later',
      [{ field: '(request)', reason: '超出访问频率限制 / rate limit exceeded' }],
    ),
  },
);

/** PostgreSQL or Temporal cannot serve now: nothing was changed, the client may try again (api/errors.ts). */
const OUTAGE = commonAnswer(
  'ServiceUnavailable',
  '暂时无法处理：数据库或流程引擎不可用，未做任何更改，请按 Retry-After 重试 / the database or the process engine cannot serve now; try again after Retry-After',
  RETRY_AFTER,
  {
    database: new HttpError(
      503,
      'SERVICE_UNAVAILABLE',
      '平台暂时无法处理请求（数据库不可用），未做任何更改，请稍后重试 / temporarily unavailable (database): nothing was changed, try again later',
      [{ field: '(service)', reason: 'database unavailable' }],
    ),
    process_engine: new HttpError(
      503,
      'SERVICE_UNAVAILABLE',
      '平台暂时无法处理请求（流程引擎不可用），请求未完成，请稍后重试 / temporarily unavailable (process engine): the request was not completed, try again later',
      [{ field: '(service)', reason: 'temporal unavailable' }],
    ),
  },
);

/** A JSON body over its parser's limit (body-parser, answered by api/errors.ts). */
const BODY_TOO_LARGE = commonAnswer('PayloadTooLarge', '请求体过大 / the body is over the limit', undefined, {
  BAD_REQUEST: new HttpError(413, 'BAD_REQUEST', '请求体过大，大批量请用 CSV / body too large; send large batches as CSV', [
    { field: '(body)', reason: 'request entity too large' },
  ]),
});

/** What body-parser says of a body that is not JSON (the message of this runtime's JSON.parse). */
function malformedJson(): HttpError {
  let reason = 'Unexpected end of JSON input';
  try {
    JSON.parse('{"reason": }');
  } catch (e) {
    reason = (e as Error).message;
  }
  return new HttpError(400, 'BAD_REQUEST', '请求体无法解析 / malformed request body', [{ field: '(body)', reason }]);
}
const MALFORMED_JSON = malformedJson();

const isZod = (s: unknown): s is ZodType => typeof (s as ZodType | undefined)?.safeParse === 'function';
const shapeOf = (s: unknown): Record<string, unknown> | null =>
  isZod(s) && 'shape' in s && typeof s.shape === 'object' && s.shape ? (s.shape as Record<string, unknown>) : null;

/** The 400 of a ZodError, as `errorHandler` answers it. */
const invalid = (err: ZodError) => new HttpError(400, 'BAD_REQUEST', '请求参数无效 / invalid request', zodDetails(err));

/** The 400 the API answers when `schema` refuses `input` (an example of a route's own validation). */
export function validationError(schema: ZodType, input: unknown): HttpError {
  const r = schema.safeParse(input);
  if (r.success) throw new Error(`validationError: ${JSON.stringify(input)} is valid`);
  return invalid(r.error);
}

/**
 * A validation error of the route's own schemas, as it really answers: a path parameter that is not of its form,
 * else a body missing what it requires, else a query parameter out of its range; null for a route without any.
 */
function validationExample(route: RouteConfig): HttpError | null {
  const tries: Array<[unknown, unknown]> = [];
  const params = shapeOf(route.request?.params);
  if (params) tries.push([route.request!.params, Object.fromEntries(Object.keys(params).map((k) => [k, '0x']))]);
  const body = route.request?.body?.content['application/json']?.schema;
  if (isZod(body)) tries.push([body, {}], [body, { unknown_field: true }]);
  const query = shapeOf(route.request?.query);
  if (query) for (const k of Object.keys(query)) tries.push([route.request!.query, { [k]: '0x' }]);
  for (const [schema, input] of tries) {
    try {
      const r = (schema as ZodType).safeParse(input);
      if (!r.success) return invalid(r.error);
    } catch {
      // An asynchronous refinement: the next try.
    }
  }
  return null;
}

/** The form of a 400 for a route that takes no parameters (a list's `limit` out of range, as the others answer it). */
const INVALID_PARAMETER = validationError(z.object({ limit: z.coerce.number().int().min(1).max(500) }), { limit: '1000' });

/** Adds a shared answer's examples to a route's own answer of that status (the route's first). */
function withCommon(own: Answer | undefined, common: CommonAnswer): Answer {
  if (!own) return common.ref;
  if ('$ref' in own) return own;
  const media = own.content?.['application/json'];
  const mine: Examples = media?.examples
    ? (media.examples as Examples)
    : media && media.example !== undefined
      ? { example: { summary: own.description, value: media.example } }
      : {};
  const { example: _example, ...rest } = media ?? { schema: ErrorBody };
  return {
    ...own,
    ...(own.headers || !common.headers ? {} : { headers: common.headers }),
    content: {
      ...own.content,
      'application/json': { ...rest, schema: rest.schema ?? ErrorBody, examples: { ...mine, ...common.examples } },
    },
  };
}

/** `post /records/{key}/corrections` → `postRecordsByKeyCorrections`: the id of a route documented without one. */
function defaultOperationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .flatMap((s) => (s.startsWith('{') ? ['by', ...s.slice(1, -1).split(/[^A-Za-z0-9]+/)] : s.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

const operationIds = new Map<string, string>();

/** A route as documented: its OpenAPI operation and who may call it. */
export interface DocumentedRoute extends RouteConfig {
  /** Needs an API key (`Authorization: Bearer qzk_…`); without it the route is public (`security: []`). */
  secured?: boolean;
  /** Counted against the public allowance per client address (api/public-limit.ts): may answer 429. */
  publicLimit?: boolean;
  /** Reads or writes PostgreSQL or Temporal, so may answer 503 when they cannot serve (default: a secured route). */
  outage?: boolean;
}

/**
 * Registers a route with the common error answers: 400 (an example made of the route's own schemas), a malformed
 * or too large JSON body; for a secured route the bearer scheme, 401, 403 and 429 of failed authentications, for a
 * public one `security: []`; 429 of the public allowance; 503 of an outage. Every operation gets an `operationId`
 * (its own, or one made of its method and path), unique in the document.
 */
export function document(route: DocumentedRoute): void {
  const { secured = false, publicLimit = false, outage = secured, ...rest } = route;
  const operationId = rest.operationId ?? defaultOperationId(rest.method, rest.path);
  const where = `${rest.method.toUpperCase()} ${rest.path}`;
  const taken = operationIds.get(operationId);
  if (taken && taken !== where) throw new Error(`operationId ${operationId} of ${where} is ${taken}'s already`);
  operationIds.set(operationId, where);
  const own: Record<string, Answer> = { ...rest.responses };
  for (const [status, answer] of Object.entries(own)) {
    const made = statusOfAnswer.get(answer);
    if (made !== undefined && String(made) !== status) throw new Error(`${where}: a ${made} answer is documented as ${status}`);
  }
  const jsonBody = !!rest.request?.body?.content['application/json'];
  const responses: Record<string, Answer> = { ...own };
  const invalidExample = validationExample(rest);
  responses[400] =
    own[400] ??
    (invalidExample
      ? errorAnswer('请求无效 / bad request', invalidExample, ...(jsonBody ? [MALFORMED_JSON] : []))
      : errorAnswer(
          '请求无效（本接口无参数；参数无效时的回答如此）/ bad request (this route takes no parameters; an invalid one is answered so)',
          INVALID_PARAMETER,
        ));
  if (jsonBody) responses[413] = own[413] ?? BODY_TOO_LARGE.ref;
  if (secured) {
    responses[401] = withCommon(own[401], UNAUTHORIZED);
    responses[403] = withCommon(own[403], FORBIDDEN);
    responses[429] = withCommon(own[429], AUTH_THROTTLED);
  }
  if (publicLimit) responses[429] = withCommon(responses[429], PUBLIC_LIMITED);
  if (outage) responses[503] = withCommon(own[503], OUTAGE);
  registry.registerPath({
    ...rest,
    operationId,
    security: secured ? [{ apiKey: [] }] : [],
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  });
}

export function openApiDocument() {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: '钦州市信用信息共享平台 API / Qinzhou credit information sharing platform',
      version: '0.1.0',
      description:
        '征集、发布、查询、异议 — collection, publication, queries and objections (企业信用信息征集和发布管理办法, 个人信用信息征集和使用管理办法).\n\n' +
        '每个错误的回答都是 `{"error": {"code", "message", "details": [{"row", "field", "reason", "article"}]}}`，说明先中文后英文；无需密钥的接口标为 `security: []`。/ Every error is answered as `{"error": {…}}`, its texts in Chinese first, then English; the routes open without a key say `security: []`.',
      license: { name: '专有 / proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/' }],
  });
}
