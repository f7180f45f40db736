import { Router } from 'express';
import type { AppDeps } from '../app';

export function obligationsRouter(_deps: AppDeps): Router {
  return Router();
}
