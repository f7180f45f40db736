import { beijingInstants } from '../db/time';
import { requestLogging } from './http-log';
import express, { type Express, type RequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex';
import { trustProxySetting, type Config } from '../domain/config';
import { feedState } from '../db/changes';
import { calendarWarnings, type CalendarWarning } from '../db/calendar-gaps';
import { shanghaiDate } from '../domain/calendar';
import { authenticate } from './auth';
import { createPublicLimit } from './public-limit';
import { errorHandler, notFound } from './errors';
import { document, openApiDocument } from './openapi';
import { z } from '../domain/z';
import { catalogRouter } from './routes/catalog';
import { templatesRouter } from './routes/templates';
import { calendarRouter } from './routes/calendar';
import { submissionsRouter } from './routes/submissions';
import { recordsRouter } from './routes/records';
import { adminRouter } from './routes/admin';
import { obligationsRouter } from './routes/obligations';
import { complianceCasesRouter } from './routes/compliance-cases';
import { providerComplianceRouter } from './routes/provider-compliance';
import { providersRouter } from './routes/providers';
import { publicEnterprisesRouter } from './routes/public-enterprises';
import { publicationRouter } from './routes/publication';
import { voluntaryDisclosuresRouter } from './routes/voluntary-disclosures';
import { objectionsRouter } from './routes/objections';
import { objectionHandlingRouter } from './routes/objection-handling';
import { documentsRouter } from './routes/documents';
import { authorizationsRouter } from './routes/authorizations';
import { creditQueriesRouter } from './routes/credit-queries';
import { ratingRequestsRouter } from './routes/rating-requests';
import { judicialRequestsRouter } from './routes/judicial-requests';
import { queryOversightRouter } from './routes/query-oversight';
import { auditRouter } from './routes/audit';
import { ratingAgreementsRouter } from './routes/rating-agreements';
import { notificationsRouter } from './routes/notifications';
import { dashboardRouter } from './routes/dashboard';

export interface AppDeps {
  db: Db;
  temporal: Client;
  config: Pick<Config, 'taskQueue' | 'jsonBodyLimit' | 'maxReportedErrors'>;
}

/** What the routers get: the app's parts and its one public rate limit. */
export interface RouterDeps extends AppDeps {
  publicLimit: RequestHandler;
}

const opsTags = ['运行 Operations'];
const ReadinessWarning = z.object({
  code: z.enum(['CALENDAR_YEAR_MISSING', 'CALENDAR_NEXT_YEAR_NOT_LOADED']),
  year: z.number().int().openapi({ example: 2027 }),
  title: z.string().openapi({ example: '2027 年工作日历尚未载入，相关期限无法确定 / no working-day calendar is loaded for 2027' }),
});
document({
  method: 'get',
  path: '/health',
  tags: opsTags,
  summary: '进程存活 / the process answers',
  responses: { 200: { description: 'alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});
const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  database: z.enum(['ok', 'down']),
  temporal: z.enum(['ok', 'down']),
  change_feed: z.enum(['listening', 'lost', 'off']).openapi({
    description:
      '变更通知（密钥、日历缓存）：listening 正在接收；lost 连接中断或无响应，缓存已停用、正在重连；off 未启用 / change notices (key and calendar caches): listening; lost (connection failed or stalled: caches off, reconnecting); off',
  }),
  warnings: z.array(ReadinessWarning).openapi({
    description:
      '平台可用但须处理的事项（如工作日历未载入）；不影响就绪状态 / what needs attention without making the process unready (e.g. a calendar year not loaded)',
  }),
});
document({
  method: 'get',
  path: '/health/ready',
  tags: opsTags,
  summary: '可接收请求：能连接 PostgreSQL 与 Temporal（供负载均衡器检查）/ ready: PostgreSQL and Temporal reachable (for a load balancer)',
  responses: {
    200: { description: 'ready', content: { 'application/json': { schema: Readiness } } },
    503: { description: 'not ready, naming what is down', content: { 'application/json': { schema: Readiness } } },
  },
});

const READY_TIMEOUT_MS = 2000;
const READY_CACHE_MS = 5000;

async function withTimeout(what: () => Promise<unknown>): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([what(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS)))]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP API. `listen` lives in api/main.ts so tests drive the app directly. */
export function createApp(deps: AppDeps): Express {
  const app = express();

  // Temporal's answer is kept a few seconds (one check in flight at a time): the client retries a failed call in
  // the background, so frequent probes while Temporal is down must not pile up calls.
  let temporalCheck: { at: number; result: Promise<'ok' | 'down'> } | null = null;
  const temporalReady = () => {
    if (!temporalCheck || Date.now() - temporalCheck.at > READY_CACHE_MS) {
      const abort = new AbortController();
      const result = withTimeout(() =>
        deps.temporal.connection.withAbortSignal(abort.signal, () => deps.temporal.workflowService.getSystemInfo({})),
      ).finally(() => abort.abort());
      temporalCheck = { at: Date.now(), result };
    }
    return temporalCheck.result;
  };
  let warningsCheck: { at: number; result: Promise<CalendarWarning[]> } | null = null;
  const calendarWarningsCached = () => {
    if (!warningsCheck || Date.now() - warningsCheck.at > READY_CACHE_MS) {
      warningsCheck = { at: Date.now(), result: calendarWarnings(deps.db, shanghaiDate(new Date())).catch(() => []) };
    }
    return warningsCheck.result;
  };
  // One public allowance per app, shared by every route a person reaches without a key (api/public-limit.ts).
  const routed: RouterDeps = { ...deps, publicLimit: createPublicLimit(deps.db) };
  app.disable('x-powered-by');
  // Instants in the answers in Beijing time, with their offset (db/time.ts).
  app.set('json replacer', beijingInstants);
  // One log line per request, its id carried into what it writes and starts (api/http-log.ts).
  app.use(requestLogging());
  // No automatic ETag (a hash of every answer): the public answers, which caches may keep, set their own.
  app.set('etag', false);
  // Who the client is, behind the load balancers named by TRUST_PROXY (rate limits count by client address).
  app.set('trust proxy', trustProxySetting());

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // For a load balancer: 200 when this process can reach PostgreSQL and Temporal, else 503 naming what is down.
  app.get('/health/ready', async (_req, res) => {
    const [database, temporal] = await Promise.all([withTimeout(() => deps.db.raw('SELECT 1')), temporalReady()]);
    const ready = database === 'ok' && temporal === 'ok';
    // Warnings (a calendar year missing) are for people: the platform works, so readiness stays as it is.
    // What waits on a year is for administrators (GET /admin/dashboard); anyone may read this.
    const warnings = database === 'ok' ? (await calendarWarningsCached()).map((w) => ({ code: w.code, year: w.year, title: w.title })) : [];
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : 'not_ready', database, temporal, change_feed: feedState(deps.db), warnings });
  });
  const doc = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(doc, { customSiteTitle: '钦州市信用信息共享平台 API' }));

  // The public side (no login) first: it needs no key, and a citizen's request walks no other route to reach it.
  app.use(publicEnterprisesRouter(routed));
  app.use(authenticate(deps.db));
  // The catalog, its templates and the calendar are read without a key too: the same public allowance (a key's
  // holder is not counted).
  app.use(['/catalog', '/calendar'], routed.publicLimit);
  app.use(catalogRouter(routed));
  app.use(templatesRouter(routed));
  app.use(calendarRouter(routed));
  app.use(submissionsRouter(routed));
  app.use(recordsRouter(routed));
  app.use(adminRouter(routed));
  app.use(obligationsRouter(routed));
  app.use(complianceCasesRouter(routed));
  app.use(providerComplianceRouter(routed));
  app.use(providersRouter(routed));
  app.use(publicationRouter(routed));
  app.use(voluntaryDisclosuresRouter(routed));
  app.use(objectionsRouter(routed));
  app.use(objectionHandlingRouter(routed));
  app.use(documentsRouter(routed));
  app.use(authorizationsRouter(routed));
  app.use(creditQueriesRouter(routed));
  app.use(ratingRequestsRouter(routed));
  app.use(judicialRequestsRouter(routed));
  app.use(queryOversightRouter(routed));
  app.use(auditRouter(routed));
  app.use(ratingAgreementsRouter(routed));
  app.use(notificationsRouter(routed));
  app.use(dashboardRouter(routed));

  app.use((req, _res, next) => next(notFound(`${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
