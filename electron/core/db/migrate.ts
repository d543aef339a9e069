import { SottoError } from '../errors.ts';
import type { Migration } from './migration.ts';
import type { Sql } from './sqlite.ts';
import { migration0001 } from './migrations/0001-account-and-protocol-state.ts';
import { migration0002 } from './migrations/0002-contacts-and-history.ts';
import { migration0003 } from './migrations/0003-message-search.ts';
import { migration0004 } from './migrations/0004-key-publication.ts';
import { migration0005 } from './migrations/0005-failed-message-index.ts';
import { migration0006 } from './migrations/0006-delivery-tokens.ts';
import { migration0007 } from './migrations/0007-uuid-account-ids-and-key-lifecycle.ts';
import { migration0008 } from './migrations/0008-unprocessed-envelopes.ts';
import { migration0009 } from './migrations/0009-groups.ts';
import { migration0010 } from './migrations/0010-group-parts-flags-search.ts';
import { migration0011 } from './migrations/0011-attachments.ts';
import { migration0012 } from './migrations/0012-group-read-markers.ts';
import { migration0013 } from './migrations/0013-download-choice.ts';
import { migration0014 } from './migrations/0014-mute.ts';
import { migration0015 } from './migrations/0015-attachment-at-rest-format.ts';
import { migration0017 } from './migrations/0017-deleted-messages.ts';
import { migration0018 } from './migrations/0018-attachment-duration-and-deleted-age.ts';
import { migration0020 } from './migrations/0020-sender-scoped-message-ids.ts';
import { migration0021 } from './migrations/0021-rederivable-blobs.ts';
import { migration0022 } from './migrations/0022-clean-names-from-others.ts';

/** Every migration, in order. Append only; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
  migration0010,
  migration0011,
  migration0012,
  migration0013,
  migration0014,
  migration0015,
  migration0017,
  migration0018,
  migration0020,
  migration0021,
  migration0022,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** The schema version stored in the database header (`PRAGMA user_version`). */
export function schemaVersion(db: Sql): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/**
 * Brings the schema up to `target`, one transaction per migration. A database
 * from a newer build is refused before anything is written.
 */
export function migrate(db: Sql, target = SCHEMA_VERSION): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) throw new SottoError('PROFILE_TOO_NEW', `schema ${current}`);
  for (const migration of MIGRATIONS) {
    if (migration.version <= current || migration.version > target) continue;
    if (migration.rebuildsParents) withoutForeignKeys(db, () => apply(db, migration));
    else apply(db, migration);
  }
}

function apply(db: Sql, migration: Migration): void {
  const dangling = () => db.prepare('PRAGMA foreign_key_check').all().length;
  db.transaction(() => {
    // Damage a profile already carries is not the rebuild's: it must only add none.
    const before = migration.rebuildsParents ? dangling() : 0;
    migration.up(db);
    // A rebuild ran with foreign keys off: a reference it left dangling aborts it here, before it commits.
    if (migration.rebuildsParents && dangling() > before)
      throw new SottoError('DB_CORRUPT', `migration ${migration.version}: foreign keys`);
    db.exec(`PRAGMA user_version = ${migration.version}`);
  })();
}

/** Runs `step` with foreign keys off (the pragma is a no-op inside a transaction, so around it). */
function withoutForeignKeys(db: Sql, step: () => void): void {
  const before = Number(db.pragma('foreign_keys', { simple: true }));
  db.exec('PRAGMA foreign_keys = OFF');
  // Inside an open transaction the pragma does nothing, and a DROP TABLE would cascade.
  if (Number(db.pragma('foreign_keys', { simple: true })) !== 0)
    throw new SottoError('INTERNAL', 'a table rebuild cannot run inside a transaction');
  try {
    step();
  } finally {
    db.exec(`PRAGMA foreign_keys = ${before ? 'ON' : 'OFF'}`);
  }
}
