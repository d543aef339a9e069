import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { exportBackup } from '../../../electron/core/index.ts';
import { addHistory, BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';
import { useTmux } from '../../support/tmux.ts';

// The Debian `age` CLI opens a Sotto backup: it reads a passphrase only from a
// terminal, so it runs inside a tmux session and the passphrase is typed
// with send-keys. Then the inner stream is parsed exactly as
// docs/backup-format.md describes it.

const tmux = useTmux('age');

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `age -d` on `file` with the passphrase typed into its terminal; returns the plaintext. */
async function ageDecrypt(file: string, passphrase: string, dir: string): Promise<Buffer> {
  const out = join(dir, 'plain.ndjson');
  const status = join(dir, 'status');
  tmux(
    'new-session',
    '-d',
    '-s',
    'age',
    '-x',
    '200',
    '-y',
    '20',
    `age -d -o '${out}' '${file}'; echo $? > '${status}'`,
  );
  await waitFor(
    () => /passphrase/i.test(tmux('capture-pane', '-p', '-t', 'age')),
    'the passphrase prompt',
  );
  tmux('send-keys', '-t', 'age', '-l', passphrase);
  tmux('send-keys', '-t', 'age', 'Enter');
  await waitFor(
    () => existsSync(status) && readFileSync(status, 'utf8').endsWith('\n'),
    'age to exit',
  );
  expect(readFileSync(status, 'utf8').trim()).toBe('0');
  return readFileSync(out);
}

describe('interoperability with the age CLI', () => {
  it('`age -d` decrypts a backup, and the inner stream parses per docs/backup-format.md', async () => {
    const { profile } = await newProfile('Interop');
    addHistory(profile, 500, { contacts: 3 });
    const dir = tempDir();
    const file = join(dir, 'backup.age');
    await exportBackup(profile, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });

    const plaintext = await ageDecrypt(file, BACKUP_PASSPHRASE, dir);
    // Padded with newlines to whole 64 KiB chunks.
    expect(plaintext.length % 65536).toBe(0);
    const text = plaintext.toString('utf8').replace(/\n+$/, '\n');
    const lines = text.slice(0, -1).split('\n');
    const records = lines.map(
      (line) => JSON.parse(line) as { type: string } & Record<string, unknown>,
    );
    // Every record is one JSON object per line with `type` as its first member.
    expect(lines.every((line) => line.startsWith('{"type":"'))).toBe(true);
    const manifest = records[0]!;
    expect(manifest).toMatchObject({
      type: 'manifest',
      format: 'sotto-backup',
      version: 7,
      accountId: profile.account.accountId,
    });
    const trailer = records.at(-1)! as {
      type: string;
      counts: Record<string, number>;
      sha256: string;
    };
    expect(trailer.type).toBe('trailer');
    // The trailer's hash covers every byte before the trailer line.
    const before = text.slice(0, text.lastIndexOf('{"type":"trailer"'));
    expect(createHash('sha256').update(before, 'utf8').digest('hex')).toBe(trailer.sha256);
    // Counts: by type, equal in manifest, trailer and the records themselves.
    const counted: Record<string, number> = {};
    for (const r of records.slice(1, -1)) counted[r.type] = (counted[r.type] ?? 0) + 1;
    for (const [type, n] of Object.entries(trailer.counts))
      expect(counted[type] ?? 0, type).toBe(n);
    expect(manifest['counts']).toEqual(trailer.counts);
    expect(trailer.counts['message']).toBe(500);
    // Record order: manifest, account, keys, …, messages, trailer.
    const order = [
      'manifest',
      'account',
      'key',
      'keyUse',
      'keyCounter',
      'setting',
      'contact',
      'conversation',
      'message',
      'trailer',
    ];
    const ranks = records.map((r) => order.indexOf(r.type));
    expect(ranks.every((rank, i) => rank >= 0 && (i === 0 || rank >= ranks[i - 1]!))).toBe(true);
    // No ratchet state: nothing session-like is in the stream.
    expect(records.some((r) => /session/i.test(r.type))).toBe(false);
  });
});
