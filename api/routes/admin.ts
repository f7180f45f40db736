import { Router } from 'express';
import type { AppDeps } from '../app';

export function adminRouter(_deps: AppDeps): Router {
  return Router();
}
