import { Router } from 'express';
import type { AppDeps } from '../app';

export function publicationRouter(_deps: AppDeps): Router {
  return Router();
}
