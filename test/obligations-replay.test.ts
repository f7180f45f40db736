/**
 * Determinism guard: the recorded histories of the obligation, compliance-case and submission workflows (test/histories/,
 * recorded with `RECORD_HISTORIES=1 npx jest test/obligations.test.ts test/provider-deactivation.test.ts test/calendar-platform.test.ts`) are replayed against today's workflow
 * code. A change that would break the running workflows (a new activity call in the middle, a timer moved, a
 * branch taken differently) fails here. A change made on purpose needs `patched()` in the workflow, not new
 * recordings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';

const DIR = path.join(__dirname, 'histories');
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('every recorded history is here (on time, late, ordered, escalated, reminders, waived, awaiting the calendar, opener, submission)', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'obligation-on-time.json',
      'obligation-late.json',
      'obligation-ordered-then-submitted.json',
      'obligation-reminded-overdue.json',
      'obligation-waived.json',
      'obligation-awaiting-calendar.json',
      'case-resolved-unordered.json',
      'case-ordered-resolved.json',
      'case-ordered-ignored-escalated.json',
      'opener.json',
      // A batch published (stubbed activities); the first recorded before the submission workflow told the
      // obligation itself, so the step behind patched('tell-obligation') must let it replay.
      'submission-published-before-tell-step.json',
      'submission-published.json',
    ]),
  );
});

test.each(files)(
  '%s replays deterministically on the current workflow code',
  async (file) => {
    // Stored as proto3 JSON (historyToJSON); read with the generated decoder (the reflection-based JSON reader of
    // protobufjs does not work inside jest's module registry).
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../workflows') }, history, file.replace(/\.json$/, ''));
  },
  60000,
);
