import { CALENDAR_WATCH_SCHEDULE_ID } from '../domain/workflow-ids';
import { sealSettings } from '../domain/config';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';

/**
 * The platform's durable, restart-proof timers: Temporal Schedules that start the daily sweeps (opening
 * reporting obligations, unpublishing expired records, purging personal data past retention). Each process adds
 * its own entries to SCHEDULES. Created (or brought up to date) when a worker starts; safe to run again.
 */
export interface ScheduleDef {
  scheduleId: string;
  /** The workflow the schedule starts (by name) and its arguments. */
  workflowType: string;
  args: unknown[];
  /** Calendar spec in Asia/Shanghai, e.g. { hour: 1, minute: 0 }; or `everyMinutes` instead. */
  at?: { hour: number; minute: number };
  everyMinutes?: number;
  memo?: string;
  /** Also run once whenever a worker starts (for an idempotent sweep whose first run should not wait a day). */
  runAtStart?: boolean;
}

export const SCHEDULES: ScheduleDef[] = [];

// Reporting obligations (E7, P9): every day at 00:15 Shanghai, open the obligations of the periods that have begun.
SCHEDULES.push({
  scheduleId: 'obligation-opener',
  workflowType: 'obligationOpenerWorkflow',
  args: [{}],
  at: { hour: 0, minute: 15 },
  // A new platform (or one that was down at 00:15) opens the current periods at once, not tomorrow.
  runAtStart: true,
  memo: '按报送周期开立信息提供单位的报送义务（E7、P9）/ daily: open the reporting obligations of the periods that have begun',
});

// Publication (E12, E15): every day at 00:30 Shanghai, unpublish what is due and publish what is overdue.
SCHEDULES.push({
  scheduleId: 'publication-expiry',
  workflowType: 'publicationSweepWorkflow',
  args: [{}],
  at: { hour: 0, minute: 30 },
  memo: '发布期限届满的记录解除公开发布、转为长期保存（E15）/ daily publication sweep',
});

// Public search (E11): every day at 03:00 Shanghai, recount the common fragments of enterprise names, and at once
// when a worker starts (a new platform, or new enterprises since the last count).
SCHEDULES.push({
  scheduleId: 'name-search-statistics',
  workflowType: 'nameSearchStatisticsWorkflow',
  args: [],
  at: { hour: 3, minute: 0 },
  runAtStart: true,
  memo: '重建企业名称检索的常见片段统计（公开检索，E11）/ daily: recount the common fragments of enterprise names for the public search',
});

// Retention (P19): every day at 02:00 Shanghai, remove personal records whose 5 years after conclusion are over.
SCHEDULES.push({
  scheduleId: 'retention-sweep',
  workflowType: 'retentionSweepWorkflow',
  args: [{}],
  at: { hour: 2, minute: 0 },
  memo: '删除行为或事件终结满 5 年的个人信用信息，保留查询记录（P19、P20）/ daily: purge personal records past their 5-year retention',
});

// Working days (SPEC "Working days"): every day at 08:30 Shanghai, and at once when a worker starts — this year
// missing, next year not loaded from 1 November (administrators reminded), a loaded year whose waiters were not woken.
SCHEDULES.push({
  scheduleId: CALENDAR_WATCH_SCHEDULE_ID,
  workflowType: 'calendarWatchWorkflow',
  args: [],
  at: { hour: 8, minute: 30 },
  runAtStart: true,
  memo: "检查工作日历：当年未载入、11 月 1 日起次年未载入时提醒管理员 / daily: remind administrators while this or next year's calendar is not loaded",
});

// The audit chain's signed checkpoint (E23, P26; db/seal.ts): every CHECKPOINT_EVERY_MINUTES, and when a worker starts.
SCHEDULES.push({
  scheduleId: 'audit-checkpoint',
  workflowType: 'auditCheckpointWorkflow',
  args: [],
  // Read when the Schedule is put in place, not when this module is loaded: the entry point checks the settings first.
  get everyMinutes() {
    return sealSettings().checkpointEveryMinutes;
  },
  runAtStart: true,
  memo: '签署审计链检查点，写入数据库之外的日志（E23、P26）/ sign a checkpoint of the audit chain into the log outside the database',
});

export async function ensureSchedules(client: Client, taskQueue: string, defs: ScheduleDef[] = SCHEDULES): Promise<string[]> {
  const done: string[] = [];
  for (const def of defs) {
    const options: ScheduleOptions = {
      scheduleId: def.scheduleId,
      spec: def.at
        ? { calendars: [{ hour: def.at.hour, minute: def.at.minute }], timezone: 'Asia/Shanghai' }
        : { intervals: [{ every: `${def.everyMinutes ?? 60}m` }] },
      action: { type: 'startWorkflow', workflowType: def.workflowType, args: def.args, taskQueue, workflowId: `${def.scheduleId}-run` },
      // A run that is still going when the next is due: skip; a missed run (downtime): run once when back.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '7 days' },
      memo: def.memo ? { description: def.memo } : undefined,
    };
    try {
      await client.schedule.create(options);
    } catch (e) {
      if (!(e instanceof ScheduleAlreadyRunning)) throw e;
      await client.schedule
        .getHandle(def.scheduleId)
        .update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: options.policies }));
    }
    if (def.runAtStart) await client.schedule.getHandle(def.scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
    done.push(def.scheduleId);
  }
  return done;
}
