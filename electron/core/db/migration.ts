import type { Sql } from './sqlite.ts';

/** One forward-only schema step; `up` runs inside a transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Sql): void;
  /**
   * Set by a migration that rebuilds a table other tables reference: foreign
   * keys are off while it runs (a DROP TABLE would otherwise cascade to the
   * children), and `PRAGMA foreign_key_check` must find no more dangling
   * references than before it ran (SQLite's documented table-rebuild procedure).
   */
  readonly rebuildsParents?: boolean;
}
