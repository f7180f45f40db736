import type { ActivityDeps } from './deps';

export const queryActivities = (_deps: ActivityDeps) => ({});
