import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from '../domain/z';

/** The OpenAPI document is generated from the same zod schemas the routes validate with. */
export const registry = new OpenAPIRegistry();

registry.registerComponent('securitySchemes', 'apiKey', {
  type: 'http',
  scheme: 'bearer',
  description: 'API 密钥 / API key: `Authorization: Bearer qzk_…`',
});

/** Whether the process an accepted request runs in has started: `pending` while Temporal is away (it starts when back). */
export const WorkflowStart = z
  .enum(['started', 'pending'])
  .describe('流程已启动，或待流程引擎恢复后自动启动 / the workflow started, or starts when the process engine is back');

export const ErrorBody = registry.register(
  'Error',
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z
        .array(z.object({ row: z.number().int().optional(), field: z.string(), reason: z.string(), article: z.string().optional() }))
        .optional(),
    }),
  }),
);

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } });

/** Registers a route with the common error answers. */
export function document(route: RouteConfig & { secured?: boolean }): void {
  const { secured, ...rest } = route;
  registry.registerPath({
    ...rest,
    security: secured ? [{ apiKey: [] }] : undefined,
    responses: {
      ...rest.responses,
      400: errorResponse('请求无效 / bad request'),
      ...(secured ? { 401: errorResponse('未认证 / unauthenticated'), 403: errorResponse('无权限 / forbidden') } : {}),
    },
  });
}

export function openApiDocument() {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: '钦州市信用信息共享平台 API / Qinzhou credit information sharing platform',
      version: '0.1.0',
      description:
        '征集、发布、查询、异议 — collection, publication, queries and objections (企业信用信息征集和发布管理办法, 个人信用信息征集和使用管理办法).',
    },
    servers: [{ url: '/' }],
  });
}
