import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { BACKUP_PASSPHRASE, backupCli } from '../../support/backup.ts';
import { cli, cliPair, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// `sotto backup export/import` and `sotto export` carry attachments, between
// real CLI processes over a folder relay; an import killed (SIGKILL) while it
// writes files leaves nothing that counts: the next open deletes the orphans.

const TEXT = 'the quartermaster counted eleven barrels of pitch\n'.repeat(400);
const BIG = 10 * 1024 * 1024;

const stored = (dir: string) =>
  readdirSync(join(dir, 'attachments'), { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

interface Listed {
  id: number;
  fileName: string | null;
  size: number;
  state: string;
}

async function listed(dir: string): Promise<Listed[]> {
  return JSON.parse(await cli(dir, ['--json', 'attachments', 'Alice'])) as Listed[];
}

describe('attachments through the CLI backup and export commands', () => {
  it('backup export/import and export carry the files; an import killed mid-file leaves no file that counts', async () => {
    const root = tempDir();
    const { alice, bob } = await cliPair(root, join(root, 'relay'));
    const text = join(root, 'ledger.txt');
    writeFileSync(text, TEXT);
    const big = testFile(root, 'chart.bin', BIG);
    await cli(alice, ['send', 'Bob', '--file', text, '--file', big]);
    await cli(bob, ['sync']);
    expect((await listed(bob)).map((a) => a.state)).toEqual(['done', 'done']);

    const backup = join(root, 'bob.age');
    await backupCli(bob, ['backup', 'export', '--scrypt-work-factor', '10', backup]);
    const fresh = join(root, 'fresh');
    const restored = await backupCli(fresh, [
      'backup',
      'import',
      backup,
      '--kdf-memory',
      '64',
      '--kdf-iterations',
      '3',
    ]);
    expect(restored.split('\n')[0]).toMatch(/^Restored 1 message and 2 attachments into a new/);
    const files = await listed(fresh);
    expect(files.map((a) => [a.fileName, a.size, a.state])).toEqual([
      ['ledger.txt', TEXT.length, 'done'],
      ['chart.bin', BIG, 'done'],
    ]);
    for (const [i, a] of files.entries()) {
      const out = join(root, `saved-${i}`);
      await cli(fresh, ['attachment', 'save', String(a.id), out]);
      expect(
        readFileSync(out).equals(i === 0 ? Buffer.from(TEXT) : testBytes(BIG, 'chart.bin')),
      ).toBe(true);
    }

    // A readable export of the restored profile writes the files beside the page.
    const page = join(root, 'alice.html');
    await cli(fresh, ['export', 'Alice', '--format', 'html', page]);
    expect(readdirSync(join(root, 'alice_files')).sort()).toEqual(['chart.bin', 'ledger.txt']);
    expect(readFileSync(join(root, 'alice_files', 'ledger.txt'), 'utf8')).toBe(TEXT);
    expect(readFileSync(page, 'utf8')).toContain('href="alice_files/ledger.txt"');

    // Killed while the merge writes the 10 MiB file: the profile is as it was once opened again.
    const before = stored(fresh);
    let killedWith: number | undefined;
    let kill: ((signal: NodeJS.Signals) => void) | undefined;
    const watch = setInterval(() => {
      let staged: string[] = [];
      try {
        staged = readdirSync(join(fresh, 'attachments', 'tmp'));
      } catch {
        return;
      }
      if (killedWith === undefined && kill && staged.some((n) => n.endsWith('.stage'))) {
        killedWith = stored(fresh).length;
        kill('SIGKILL');
      }
    }, 2);
    try {
      await runCli(fresh, ['backup', 'import', backup], {
        env: { SOTTO_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE },
        onSpawn: (k) => (kill = k),
      });
    } finally {
      clearInterval(watch);
    }
    expect(killedWith).toBeDefined();
    // Opening the profile (any command) deletes what no row names.
    expect((await listed(fresh)).map((a) => a.state)).toEqual(['done', 'done']);
    expect(stored(fresh)).toEqual(before);
    expect(readdirSync(join(fresh, 'attachments', 'tmp'))).toEqual([]);

    // Merged to the end this time: the message and both files are already there, and the output says so.
    expect(await backupCli(fresh, ['backup', 'import', backup])).toBe(
      'Merged: 0 new messages, 1 already present.\n' +
        '2 attachments not restored (no such message, or already present).\n',
    );
    expect(stored(fresh)).toEqual(before);
  }, 120_000);
});
