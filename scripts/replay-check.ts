/**
 * `npm run replay:check` (compiled: `node dist/scripts/replay-check.js`): before the workers of a new release start,
 * replays workflow histories against that release's workflow code — the prebuilt bundle when compiled, workflows/
 * from the sources — and names every workflow the new code would not replay deterministically (a step added, removed
 * or moved without `patched()`). In-flight workflows are replayed by whichever worker picks them up next, so a
 * release that fails this check must not be started.
 *
 * Histories: the workflows running on the platform's task queue (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_TASK_QUEUE), at most --limit of them, newest first; or, with --dir, the JSON files of a folder (from
 * `temporal workflow show --output json`, the Web UI's download, or test/histories/).
 * Exit 0: every history replayed; 1: one or more did not (each named); 2: the check could not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowCode } from '../worker/worker';
import { commandLine } from './cli';
import { describeError, loadSettings } from './platform';

const USAGE = `用法 / usage: npm run replay:check [-- --limit N | --dir FOLDER]

  启动新版本的 worker 之前，用新版本的工作流代码重放工作流历史，列出不能确定性重放的工作流（未用 patched() 的改动）。
  Before a new release's workers start, replays workflow histories against its workflow code and names every
  workflow it would not replay deterministically (a change made without patched()).

  默认 / by default   正在运行的工作流（TEMPORAL_ADDRESS、TEMPORAL_NAMESPACE、TEMPORAL_TASK_QUEUE），最新的在前
                      the running workflows of the platform's task queue, newest first
  --limit N           最多重放 N 个 / replay at most N (default 1000)
  --dir FOLDER        改为重放该文件夹中的 JSON 历史 / replay the JSON histories of FOLDER instead
                      (temporal workflow show --output json, or the Web UI's download)
  退出码 / exit: 0 全部可重放 / all replayed; 1 有不能重放的 / some did not (named); 2 无法检查 / the check could not run.

  -h, --help          显示本说明 / show this help`;

const args = commandLine('replay-check', USAGE, { limit: { value: 'required' }, dir: { value: 'required' } });
const say = (m: string) => console.log(`[replay-check] ${m}`);

interface Replayable {
  workflowId: string;
  history: unknown;
}

async function* fromFolder(dir: string, kinds: Map<string, string>): AsyncGenerator<Replayable> {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (!files.length) throw new Error(`no .json history in ${dir}`);
  for (const f of files) {
    const workflowId = f.replace(/\.json$/, '');
    kinds.set(workflowId, f);
    // Proto3 JSON, read with the generated decoder: the SDK's own JSON reader needs its protobufjs and that of
    // @temporalio/proto to be one copy, which an install does not always give.
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    yield { workflowId, history };
  }
}

async function* fromCluster(client: Client, taskQueue: string, limit: number, kinds: Map<string, string>): AsyncGenerator<Replayable> {
  let n = 0;
  for await (const info of client.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"` })) {
    if (n++ >= limit) break;
    kinds.set(info.workflowId, info.type);
    yield { workflowId: info.workflowId, history: await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory() };
  }
}

async function main(): Promise<number> {
  const limit = args.limit === undefined ? 1000 : Number(args.limit);
  if (!Number.isInteger(limit) || limit <= 0) {
    console.error(`[replay-check] --limit ${String(args.limit)}: 应为正整数 / not a positive whole number`);
    return 2;
  }
  // The replay worker's own log lines (its bundle, its start and stop) are not what this check reports.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const code = workflowCode();
  say(`workflow code: ${'workflowBundle' in code ? code.workflowBundle.codePath : `${code.workflowsPath} (bundled now)`}`);
  const kinds = new Map<string, string>();
  let connection: Connection | undefined;
  let histories: AsyncIterable<Replayable>;
  if (typeof args.dir === 'string') {
    histories = fromFolder(path.resolve(args.dir), kinds);
    say(`histories: the JSON files of ${path.resolve(args.dir)}`);
  } else {
    const config = loadSettings();
    if (!config.temporalAddress) {
      console.error('[replay-check] 需要 TEMPORAL_ADDRESS（或 --dir）/ needs TEMPORAL_ADDRESS (or --dir)');
      return 2;
    }
    connection = await Connection.connect({ address: config.temporalAddress });
    const client = new Client({ connection, namespace: config.temporalNamespace });
    histories = fromCluster(client, config.taskQueue, limit, kinds);
    say(
      `histories: the running workflows of task queue ${config.taskQueue} (Temporal ${config.temporalAddress}, namespace ${config.temporalNamespace}), at most ${limit}`,
    );
  }
  try {
    let replayed = 0;
    const failed: string[] = [];
    for await (const result of Worker.runReplayHistories(code, histories)) {
      replayed++;
      if (result.error) {
        const what = `${result.workflowId} (${kinds.get(result.workflowId) ?? '?'})`;
        failed.push(what);
        say(`不能确定性重放 / does NOT replay: ${what}: ${describeError(result.error)}`);
      }
    }
    if (failed.length) {
      say(`${failed.length} of ${replayed} workflows do not replay on this code: do not start its workers (use patched() for the change)`);
      return 1;
    }
    say(`全部可确定性重放 / every workflow replays on this code: ${replayed}`);
    return 0;
  } finally {
    await connection?.close();
  }
}

main().then(
  (exitCode) => process.exit(exitCode),
  (e: unknown) => {
    console.error(`[replay-check] 无法检查 / the check could not run: ${describeError(e)}`);
    process.exit(2);
  },
);
