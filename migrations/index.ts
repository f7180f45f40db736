import type { Knex } from 'knex';
import * as m0001 from './20261127_0001_foundation';

/** Every migration, in order. Listed here (not discovered on disk) so that tsx, jest and bundles all run them. */
const MIGRATIONS: Array<[string, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }]> = [
  ['20261127_0001_foundation', m0001],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};
