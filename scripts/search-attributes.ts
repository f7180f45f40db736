/**
 * `npm run temporal:search-attributes`: registers the platform's search attributes (processes/search-attributes.ts)
 * in the namespace of TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE — what a cluster needs once, by an operator allowed to
 * (the dev server `npm start` runs has them from its start). Safe to repeat: only what is missing is added.
 */
import { Connection } from '@temporalio/client';
import { startCommand } from './cli';
import { describeError } from './platform';
import { registerSearchAttributes, SEARCH_ATTRIBUTES } from '../processes/search-attributes';

const USAGE = `用法 / usage: npm run temporal:search-attributes

  在 Temporal 命名空间中登记平台的搜索属性（${Object.values(SEARCH_ATTRIBUTES)
    .map((k) => k.name)
    .join('、')}），已有的不重复登记。
  Registers the platform's search attributes in the Temporal namespace; those already there are left as they are.
  Temporal: TEMPORAL_ADDRESS（默认 / default 127.0.0.1:7233）, TEMPORAL_NAMESPACE（默认 / default "default"）.

  -h, --help   显示本说明 / show this help`;

const { settings } = startCommand('search-attributes', USAGE);
const address = settings.TEMPORAL_ADDRESS || `127.0.0.1:${settings.TEMPORAL_PORT}`;
const namespace = settings.TEMPORAL_NAMESPACE;

(async () => {
  const connection = await Connection.connect({ address, connectTimeout: '10s' });
  try {
    const added = await registerSearchAttributes(connection, namespace);
    console.log(
      added.length
        ? `[search-attributes] 已登记 / registered in ${namespace}@${address}: ${added.join(', ')}`
        : `[search-attributes] 均已登记 / all registered already in ${namespace}@${address}`,
    );
  } finally {
    await connection.close();
  }
})().catch((e: unknown) => {
  console.error(`[search-attributes] 失败 / failed: ${describeError(e)}`);
  process.exit(1);
});
