import express, { type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex';
import type { Config } from '../domain/config';
import { authenticate } from './auth';
import { errorHandler, notFound } from './errors';
import { openApiDocument } from './openapi';
import { catalogRouter } from './routes/catalog';
import { calendarRouter } from './routes/calendar';
import { submissionsRouter } from './routes/submissions';
import { recordsRouter } from './routes/records';
import { adminRouter } from './routes/admin';
import { obligationsRouter } from './routes/obligations';
import { publicationRouter } from './routes/publication';
import { objectionsRouter } from './routes/objections';
import { queriesRouter } from './routes/queries';
import { ratingAgreementsRouter } from './routes/rating-agreements';
import { notificationsRouter } from './routes/notifications';

export interface AppDeps {
  db: Db;
  temporal: Client;
  config: Pick<Config, 'taskQueue' | 'jsonBodyLimit' | 'maxReportedErrors'>;
}

/** The HTTP API. `listen` lives in api/main.ts so tests drive the app directly. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // No automatic ETag (a hash of every answer): the public answers, which caches may keep, set their own.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const doc = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(doc, { customSiteTitle: '钦州市信用信息共享平台 API' }));

  app.use(authenticate(deps.db));
  app.use(catalogRouter(deps));
  app.use(calendarRouter(deps));
  app.use(submissionsRouter(deps));
  app.use(recordsRouter(deps));
  app.use(adminRouter(deps));
  app.use(obligationsRouter(deps));
  app.use(publicationRouter(deps));
  app.use(objectionsRouter(deps));
  app.use(queriesRouter(deps));
  app.use(ratingAgreementsRouter(deps));
  app.use(notificationsRouter(deps));

  app.use((req, _res, next) => next(notFound(`${req.method} ${req.path}`)));
  app.use(errorHandler);
  return app;
}
