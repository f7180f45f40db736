/**
 * The texts the query log sends (P11): each template answers the notification's kind, title and body (Chinese
 * first, English beside it); db/query-log.ts adds the recipient, data and dedupe key.
 */

/** To administrators: a principal passed the day's query limit. */
export const queryVolumeUnusual = (o: {
  name: string;
  organization: string | null;
  role: string;
  day: string;
  count: number | string;
  limit: number;
}) => ({
  kind: 'query.volume_unusual',
  title: `查询量异常：${o.name} / unusual query volume`,
  body: `${o.name}（${o.organization ?? o.role}）${o.day} 已查询 ${o.count} 次，超过每日 ${o.limit} 次的监控阈值（P11）。/ ${o.count} queries on ${o.day}, above the daily threshold of ${o.limit}.`,
});
