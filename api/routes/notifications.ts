import { Router } from 'express';
import { z } from '../../domain/z';
import { listNotifications, markNotificationRead } from '../../db/notifications';
import type { AppDeps } from '../app';
import { principalOf, requireRole } from '../auth';
import { notFound } from '../errors';
import { document, errorAnswer, registry } from '../openapi';
import { ROLES } from '../../domain/roles';

const NotificationSchema = registry.register(
  'Notification',
  z.object({
    id: z.number().int(),
    kind: z.string(),
    title: z.string(),
    body: z.string(),
    entity: z.string().nullable(),
    entity_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    read_at: z.string().nullable(),
    resolved_at: z.string().nullable().openapi({
      description:
        '通知所述情况已消除的时间（如该年工作日历已载入）/ when what the notice says stopped being true (e.g. the year was loaded)',
    }),
  }),
);
const ListQuery = z.object({
  kind: z.string().max(64).optional(),
  unread: z.enum(['true', 'false']).optional(),
  open: z.enum(['true', 'false']).optional().openapi({ description: 'true：只列仍未消除的 / only those still true' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const IdParam = z.object({
  id: z.coerce.number().int().positive({ message: '通知编号应为正整数 / notification id must be a positive integer' }),
});

document({
  method: 'get',
  path: '/notifications',
  operationId: 'listNotifications',
  tags: ['通知 Notifications'],
  summary: '我的通知（提醒、核查请求、告警、告知）/ my notifications: reminders, verification requests, alerts, notices',
  secured: true,
  request: { query: ListQuery },
  responses: {
    200: {
      description: 'newest first',
      content: { 'application/json': { schema: z.object({ notifications: z.array(NotificationSchema) }) } },
    },
  },
});
document({
  method: 'post',
  path: '/notifications/{id}/read',
  operationId: 'markNotificationRead',
  tags: ['通知 Notifications'],
  summary: '标记为已读 / mark as read',
  secured: true,
  request: { params: IdParam },
  responses: {
    200: { description: 'read', content: { 'application/json': { schema: z.object({ id: z.number(), read_at: z.string() }) } } },
    404: errorAnswer('通知不存在或不是您的 / no such notification of yours', notFound('通知 3187')),
  },
});

export function notificationsRouter({ db }: AppDeps): Router {
  const r = Router();

  r.get('/notifications', requireRole(...ROLES), async (req, res) => {
    const q = ListQuery.parse(req.query);
    const rows = await listNotifications(db, principalOf(req), {
      kind: q.kind,
      unread: q.unread === 'true',
      open: q.open === 'true',
      limit: q.limit,
      offset: q.offset,
    });
    res.json({ notifications: rows });
  });

  r.post('/notifications/:id/read', requireRole(...ROLES), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    const row = await markNotificationRead(db, principalOf(req), id);
    if (!row) throw notFound(`通知 ${id}`);
    res.json(row);
  });

  return r;
}
