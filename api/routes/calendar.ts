import { Router } from 'express';
import type { AppDeps } from '../app';

export function calendarRouter(_deps: AppDeps): Router {
  return Router();
}
