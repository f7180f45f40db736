import type { Knex } from 'knex';
import * as m0001 from './20261127_0001_foundation';
import * as m0002 from './20261127_0002_obligations';
import * as m0003 from './20261127_0003_publication';
import * as m0004 from './20261127_0004_objections';
import * as m0005 from './20261127_0005_queries';
import * as m0006 from './20261127_0006_name_search';
import * as m0007 from './20261127_0007_change_notices';
import * as m0008 from './20261127_0008_rating_agreements';
import * as m0009 from './20261127_0009_principal_status';
import * as m0011 from './20261127_0011_provider_deactivation';
import * as m0012 from './20261127_0012_public_rate_hits';
import * as m0013 from './20261201_0013_calendar_gaps';
import * as m0014 from './20261202_0014_one_file_store';
import * as m0015 from './20261202_0015_nil_returns';
import * as m0016 from './20261202_0016_xlsx_format';
import * as m0017 from './20261202_0017_short_name_search';
import * as m0018 from './20261203_0018_records_references';
import * as m0019 from './20261203_0019_publication_record_index';
import * as m0020 from './20261203_0020_signal_outbox';
import * as m0021 from './20261203_0021_auth_failure_window';
import * as m0022 from './20261203_0022_record_hashes';
import * as m0023 from './20261203_0023_audit_checkpoints';
import * as m0024 from './20261203_0024_runtime_role';
import * as m0025 from './20261204_0025_audit_chainer';
import * as m0026 from './20261204_0026_request_starts';

/** Every migration, in order. Listed here (not discovered on disk) so that tsx, jest and bundles all run them. */
const MIGRATIONS: Array<[string, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }]> = [
  ['20261127_0001_foundation', m0001],
  ['20261127_0002_obligations', m0002],
  ['20261127_0003_publication', m0003],
  ['20261127_0004_objections', m0004],
  ['20261127_0005_queries', m0005],
  ['20261127_0006_name_search', m0006],
  ['20261127_0007_change_notices', m0007],
  ['20261127_0008_rating_agreements', m0008],
  ['20261127_0009_principal_status', m0009],
  ['20261127_0011_provider_deactivation', m0011],
  ['20261127_0012_public_rate_hits', m0012],
  ['20261201_0013_calendar_gaps', m0013],
  ['20261202_0014_one_file_store', m0014],
  ['20261202_0015_nil_returns', m0015],
  ['20261202_0016_xlsx_format', m0016],
  ['20261202_0017_short_name_search', m0017],
  ['20261203_0018_records_references', m0018],
  ['20261203_0019_publication_record_index', m0019],
  ['20261203_0020_signal_outbox', m0020],
  ['20261203_0021_auth_failure_window', m0021],
  ['20261203_0022_record_hashes', m0022],
  ['20261203_0023_audit_checkpoints', m0023],
  ['20261203_0024_runtime_role', m0024],
  ['20261204_0025_audit_chainer', m0025],
  ['20261204_0026_request_starts', m0026],
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
