import type { ActivityDeps } from './deps';
import { submissionActivities } from './submission';
import { obligationActivities } from './obligations';
import { publicationActivities } from './publication';
import { objectionActivities } from './objections';
import { ratingRequestActivities } from './rating-requests';
import { judicialRequestActivities } from './judicial-requests';
import { retentionActivities } from './retention';
import { calendarActivities } from './calendar';
import { sealActivities } from './seal';

export type { ActivityDeps } from './deps';
export type { ReceiptResult } from './submission';

/**
 * Every side effect of the workflows, one module per process. Each activity is idempotent: running it twice
 * (a retry, a worker crash) leaves the same state as running it once.
 */
export const createActivities = (deps: ActivityDeps) => ({
  ...submissionActivities(deps),
  ...obligationActivities(deps),
  ...publicationActivities(deps),
  ...objectionActivities(deps),
  ...ratingRequestActivities(deps),
  ...judicialRequestActivities(deps),
  ...retentionActivities(deps),
  ...calendarActivities(deps),
  ...sealActivities(deps),
});

export type Activities = ReturnType<typeof createActivities>;
