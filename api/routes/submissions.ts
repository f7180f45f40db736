import { Router } from 'express';
import type { AppDeps } from '../app';

export function submissionsRouter(_deps: AppDeps): Router {
  return Router();
}
