import type { ActivityDeps } from './deps';

export const objectionActivities = (_deps: ActivityDeps) => ({});
