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
  /** Calendar spec in Asia/Shanghai, e.g. { hour: 1, minute: 0 }. */
  at: { hour: number; minute: number };
  memo?: string;
}

export const SCHEDULES: ScheduleDef[] = [];

export async function ensureSchedules(client: Client, taskQueue: string, defs: ScheduleDef[] = SCHEDULES): Promise<string[]> {
  const done: string[] = [];
  for (const def of defs) {
    const options: ScheduleOptions = {
      scheduleId: def.scheduleId,
      spec: { calendars: [{ hour: def.at.hour, minute: def.at.minute }], timezone: 'Asia/Shanghai' },
      action: { type: 'startWorkflow', workflowType: def.workflowType, args: def.args, taskQueue, workflowId: `${def.scheduleId}-run` },
      // A run that is still going when the next is due: skip; a missed run (downtime): run once when back.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '7 days' },
      memo: def.memo ? { description: def.memo } : undefined,
    };
    try {
      await client.schedule.create(options);
    } catch (e) {
      if (!(e instanceof ScheduleAlreadyRunning)) throw e;
      await client.schedule.getHandle(def.scheduleId).update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: options.policies }));
    }
    done.push(def.scheduleId);
  }
  return done;
}
