import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIntegrity } from '../../../electron/core/db/integrity.ts';
import { openKeyed } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

// The background integrity check (R7) checks one table at a time so that
// closing a profile can stop it between tables instead of waiting seconds for
// a large history (it can never be interrupted inside a SQLCipher statement).

const KEY = new Uint8Array(32).fill(7);

function database(tables: number, rowsPerTable: number): string {
  const path = join(tempDir(), 'check.db');
  const db = openKeyed(path, KEY);
  for (let t = 0; t < tables; t++) {
    db.exec(`CREATE TABLE t${t} (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`);
    db.exec(`CREATE INDEX t${t}_body ON t${t}(body)`);
    const insert = db.prepare(`INSERT INTO t${t} (body) VALUES (?)`);
    db.transaction(() => {
      for (let i = 0; i < rowsPerTable; i++) insert.run([`row ${i} of table ${t} `.repeat(4)]);
    })();
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  return path;
}

describe('integrity check (R7), table by table', () => {
  it('a check cancelled before it starts reports cancelled, not ok and not damaged', async () => {
    const check = checkIntegrity(database(3, 100), KEY);
    check.cancel();
    expect(await check.report).toMatchObject({ ok: true, cancelled: true });
  });

  it('an uncancelled check covers every table and reports ok without the cancelled mark', async () => {
    const report = await checkIntegrity(database(3, 100), KEY).report;
    expect(report.ok).toBe(true);
    expect('cancelled' in report).toBe(false);
  });

  it('damage inside one table is still found when tables are checked one by one', async () => {
    const path = database(4, 2000);
    const bytes = readFileSync(path);
    const page = Math.floor(bytes.length / 4096 / 2);
    bytes[page * 4096 + 200]! ^= 0xff;
    writeFileSync(path, bytes);
    const report = await checkIntegrity(path, KEY).report;
    expect(report.ok).toBe(false);
  });
});
