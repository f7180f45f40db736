import { Router } from 'express';
import type { AppDeps } from '../app';

export function queriesRouter(_deps: AppDeps): Router {
  return Router();
}
