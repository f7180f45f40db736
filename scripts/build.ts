/**
 * `npm run build`: the production build. Compiles the entry points and everything they import to JavaScript in
 * dist/ (tsconfig.build.json; the folder layout kept: dist/api/main.js, dist/worker/main.js, dist/scripts/migrate.js
 * …) and prebuilds the worker's workflow bundle, dist/workflow-bundle.js, which a compiled worker loads instead of
 * bundling workflows/ at every start (worker/worker.ts). A production host then needs Node 20 and `npm ci --omit=dev`
 * beside dist/ (README, Production build).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { ROOT } from '../domain/config';

const say = (m: string) => console.log(`[build] ${m}`);

const DIST = path.join(ROOT, 'dist');
/** The name a compiled worker looks for beside its code (worker/worker.ts). */
const WORKFLOW_BUNDLE = 'workflow-bundle.js';

async function main(): Promise<void> {
  const started = Date.now();
  const secs = (from: number) => `${((Date.now() - from) / 1000).toFixed(1)} s`;
  // Nothing of an earlier build stays behind (a module removed from the sources must not linger in dist/).
  fs.rmSync(DIST, { recursive: true, force: true });

  const tscStarted = Date.now();
  say('compiling TypeScript to dist/ (tsconfig.build.json)');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  say(`compiled (${secs(tscStarted)})`);

  const bundleStarted = Date.now();
  const workflowsPath = path.join(DIST, 'workflows', 'index.js');
  // webpack's module listing is left out; its warnings and errors are printed.
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  fs.writeFileSync(path.join(DIST, WORKFLOW_BUNDLE), code);
  say(`workflow bundle dist/${WORKFLOW_BUNDLE}: ${(code.length / 1024 / 1024).toFixed(2)} MB (${secs(bundleStarted)})`);

  // Every entry point of tsconfig.build.json made.
  const { files } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { files: string[] };
  for (const entry of files.map((f) => f.replace(/\.ts$/, '.js'))) {
    if (!fs.existsSync(path.join(DIST, entry))) throw new Error(`the build did not make dist/${entry}`);
  }
  say(`done in ${secs(started)}: node dist/api/main.js, node dist/worker/main.js, node dist/scripts/migrate.js …`);
}

main().catch((e: unknown) => {
  console.error(`[build] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
