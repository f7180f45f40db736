import { Router } from 'express';
import type { AppDeps } from '../app';

export function recordsRouter(_deps: AppDeps): Router {
  return Router();
}
