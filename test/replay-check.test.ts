import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../domain/config';

/**
 * `npm run replay:check` (scripts/replay-check.ts), the upgrade's determinism check: histories that the workflow code
 * replays pass (exit 0); a history recorded by code that did something else at a step — here an activity of another
 * name, as a release that changed a step without `patched()` would meet — is named, and the check exits 1.
 */
const run = promisify(execFile);
let dir: string;

const replayCheck = (folder: string) =>
  run(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'scripts/replay-check.ts'), '--dir', folder], {
    cwd: ROOT,
    timeout: 120_000,
  });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qz-replay-'));
  for (const f of ['obligation-on-time.json', 'submission-published.json'])
    fs.copyFileSync(path.join(__dirname, 'histories', f), path.join(dir, f));
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('histories the workflow code replays pass', async () => {
  const { stdout } = await replayCheck(dir);
  expect(stdout).toMatch(/every workflow replays on this code: 2/);
}, 120_000);

test('a history that does not match the workflow code is named, and the check exits 1', async () => {
  const history = JSON.parse(fs.readFileSync(path.join(__dirname, 'histories', 'obligation-on-time.json'), 'utf8'));
  const scheduled = history.events.find((e: { eventType: string }) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
  expect(scheduled.activityTaskScheduledEventAttributes.activityType.name).toBe('planObligation');
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'planObligationOfAnEarlierRelease';
  fs.writeFileSync(path.join(dir, 'obligation-changed.json'), JSON.stringify(history));
  const failed = await replayCheck(dir).then(
    () => null,
    (e: { code: number; stdout: string }) => e,
  );
  expect(failed).not.toBeNull();
  expect(failed!.code).toBe(1);
  expect(failed!.stdout).toMatch(/does NOT replay: obligation-changed/);
  expect(failed!.stdout).toMatch(/1 of 3 workflows do not replay/);
}, 120_000);
