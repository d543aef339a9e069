import { HIDDEN_CHARACTERS } from '../../../../shared/protocol/hidden-characters.ts';
import { receivedDisplayName } from '../../profile/display-name.ts';
import type { Migration } from '../migration.ts';
import type { Sql } from '../sqlite.ts';

/**
 * Names other people chose, stored before the rules for them existed (stop 15
 * added them on receive): a contact's name from a first message or an invite
 * and a group member's name that break the display-name rule become no name
 * (the app shows the account id / "Member", as for names refused today); a
 * group title that breaks it keeps its text with each hidden character shown
 * as U+FFFD (a title cannot be empty); a file name loses its hidden
 * characters (bidi overrides, controls), and one left empty becomes none. Rows
 * that already follow the rules are not written.
 */
export const migration0022: Migration = {
  version: 22,
  name: 'clean-names-from-others',
  up(db) {
    cleanColumn(db, 'contacts', 'display_name', 'id', (name) => receivedDisplayName(name) ?? null);
    cleanColumn(
      db,
      'group_members',
      'display_name',
      'rowid',
      (name) => receivedDisplayName(name) ?? null,
    );
    cleanColumn(db, 'groups', 'title', 'id', shownTitle);
    cleanColumn(db, 'attachments', 'file_name', 'id', (name) => {
      const shown = name.replace(HIDDEN_CHARACTERS, '');
      return shown === '' ? null : shown;
    });
  },
};

/** A stored title as the rule would have let it in, its hidden characters made visible. */
function shownTitle(title: string): string {
  return (
    receivedDisplayName(title) ??
    receivedDisplayName(title.replace(HIDDEN_CHARACTERS, '\ufffd')) ??
    '\ufffd'
  );
}

/** Rewrites the non-null values of one column that `clean` changes. */
function cleanColumn(
  db: Sql,
  table: string,
  column: string,
  key: string,
  clean: (value: string) => string | null,
): void {
  const rows = db
    .prepare(`SELECT ${key} AS k, ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL`)
    .all<{ k: number; v: string }>();
  const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ?`);
  for (const { k, v } of rows) {
    const cleaned = clean(v);
    if (cleaned !== v) update.run([cleaned, k]);
  }
}
