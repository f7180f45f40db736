import { Router } from 'express';
import type { AppDeps } from '../app';

export function objectionsRouter(_deps: AppDeps): Router {
  return Router();
}
