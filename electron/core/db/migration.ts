import type { Sql } from './sqlite.ts';

/** One forward-only schema step; `up` runs inside a transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Sql): void;
}
