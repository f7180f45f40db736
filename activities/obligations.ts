import type { ActivityDeps } from './deps';

export const obligationActivities = (_deps: ActivityDeps) => ({});
