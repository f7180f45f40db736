import type { ActivityDeps } from './deps';

export const publicationActivities = (_deps: ActivityDeps) => ({});
