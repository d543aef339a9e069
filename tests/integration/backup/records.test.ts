import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addContact,
  exportBackup,
  importBackup,
  Profile,
  verifyBackup,
} from '../../../electron/core/index.ts';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { importMessages } from '../../../electron/core/history/bulk-import.ts';
import { newMessageId } from '../../../electron/core/messaging/message-id.ts';
import {
  BACKUP_PASSPHRASE,
  digestsOf,
  profileDigests,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
} from '../../support/backup.ts';
import { refusedEverywhere } from '../../support/backup-refusal.ts';
import { rejectedCode } from '../../support/errors.ts';
import { snapshotDir, TEST_KDF } from '../../support/profiles.ts';

// Records are read as strict JSON and split on `\n` only: text that other
// line-splitting rules or JSON.parse would change is either carried exactly
// or refused, never altered.

const SEPARATORS = ['\u2028', '\u2029', '\u0085', '\r', '\v', '\f', '\r\n'];
let root: string;
let profileDir: string;
let file: string;
let before: Record<string, string>;
let digests: ReturnType<typeof profileDigests>;
const profilePassphrase = 'records test profile passphrase';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sotto-backup-records-'));
  profileDir = join(root, 'profile');
  const profile = await Profile.create(profileDir, {
    displayName: 'Line\u2028Breaker',
    passphrase: profilePassphrase,
    kdfCost: TEST_KDF,
  });
  const identity = IdentityKeyPair.generate();
  const peer = deriveAccountId(identity.publicKey);
  addContact(profile, {
    accountId: peer,
    identityKey: identity.publicKey.serialize(),
    displayName: 'Para\u2029graph',
  });
  const start = Date.now() - 60_000;
  importMessages(
    profile,
    SEPARATORS.map((sep, i) => ({
      uuid: newMessageId(start + i),
      conversationWith: peer,
      outgoing: i % 2 === 0,
      senderAccount: i % 2 === 0 ? profile.account.accountId : peer,
      senderDevice: 1,
      sentAt: start + i,
      receivedAt: start + i + 5,
      body: `before${sep}after ${i}`,
      status: i % 2 === 0 ? 'delivered' : 'received',
    })),
  );
  digests = profileDigests(profile.db);
  file = join(root, 'good.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  await profile.close();
  before = snapshotDir(profileDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const next = (name: string) => join(root, `${name}-${++counter}`);

/** The code import fails with (merge and new profile; deep verify agrees); nothing is written. */
async function refusal(path: string): Promise<string | undefined> {
  return refusedEverywhere(path, {
    profileDir,
    passphrase: profilePassphrase,
    before,
    fresh: next('fresh'),
  });
}

/** The backup with one line changed by `edit` (the trailer's hash recomputed: only the record rules can catch it). */
async function edited(match: string, edit: (line: string) => string): Promise<string> {
  const lines = await readBackupLines(file);
  const index = lines.findIndex((l) => l.includes(match));
  expect(index).toBeGreaterThanOrEqual(0);
  lines[index] = edit(lines[index]!);
  const path = next('edited.age');
  await writeBackupLines(path, lines);
  return path;
}

describe('backup records', () => {
  it('are split on \\n only: U+2028, U+2029, U+0085, CR, VT and FF in bodies (U+2028, U+2029 in names) are written raw and come back exactly', async () => {
    const lines = await readBackupLines(file);
    const text = lines.join('\n');
    for (const sep of ['\u2028', '\u2029', '\u0085']) expect(text).toContain(sep);
    expect(lines.filter((l) => l.startsWith('{"type":"message"'))).toHaveLength(SEPARATORS.length);
    expect(lines.every((l) => l.startsWith('{"type":"'))).toBe(true);

    const restored = next('restored');
    await importBackup(restored, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored harbour kettle 5521', kdfCost: TEST_KDF },
    });
    const profile = await Profile.open(restored, { passphrase: 'restored harbour kettle 5521' });
    try {
      expect(profileDigests(profile.db)).toEqual(digests);
      const bodies = profile.db
        .prepare('SELECT body FROM messages ORDER BY sent_at', { pluck: true })
        .all();
      expect(bodies).toEqual(SEPARATORS.map((sep, i) => `before${sep}after ${i}`));
      expect(profile.account.displayName).toBe('Line\u2028Breaker');
    } finally {
      await profile.close();
    }
    expect(await digestsOf(restored, 'restored harbour kettle 5521')).toEqual(digests);
  });

  it('with a duplicate member are BACKUP_TAMPERED (JSON.parse would keep the last one silently)', async () => {
    const body = await edited('"type":"message"', (l) =>
      l.replace('"body":', '"body":"what the first reader sees","body":'),
    );
    expect(await refusal(body)).toBe('BACKUP_TAMPERED');
    const nested = await edited('"type":"contact"', (l) =>
      l.replace('"verified":false', '"verified":false,"verified":true'),
    );
    expect(await refusal(nested)).toBe('BACKUP_TAMPERED');
    const escaped = await edited('"type":"message"', (l) =>
      l.replace('"status":', '"\\u0073tatus":"failed","status":'),
    );
    expect(await refusal(escaped)).toBe('BACKUP_TAMPERED');
  });

  it('a duplicate member in the manifest is refused even by a plain verify (the manifest is always parsed)', async () => {
    const path = await edited('"type":"manifest"', (l) =>
      l.replace('"createdAt":', '"createdAt":1,"createdAt":'),
    );
    expect(await rejectedCode(() => verifyBackup(path, BACKUP_PASSPHRASE))).toBe('BACKUP_TAMPERED');
    expect(await refusal(path)).toBe('BACKUP_TAMPERED');
  });

  it('a line that never ends is refused once 2 MiB of it are held, even by a plain verify; an oversized field by a deep one', async () => {
    const lines = await readBackupLines(file);
    const endless = next('endless.age');
    const contact = lines.findIndex((l) => l.startsWith('{"type":"contact"'));
    // 3 MiB of a body with no newline, so the carried piece outgrows the cap.
    lines.splice(
      contact,
      1,
      lines[contact]!.replace('"displayName":"', `"displayName":"${'x'.repeat(3 << 20)}`),
    );
    await writeBackupLines(endless, lines);
    expect(await rejectedCode(() => verifyBackup(endless, BACKUP_PASSPHRASE))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(await refusal(endless)).toBe('BACKUP_TAMPERED');

    const long = await edited('"type":"message"', (l) =>
      l.replace('"body":"', `"body":"${'v'.repeat(64 * 1024)}`),
    );
    expect(await rejectedCode(() => verifyBackup(long, BACKUP_PASSPHRASE))).toBeUndefined();
    expect(await refusal(long)).toBe('BACKUP_TAMPERED');
  });

  it('with an escaped lone surrogate in a body or a name are BACKUP_TAMPERED, not stored as U+FFFD', async () => {
    const body = await edited('"type":"message"', (l) =>
      l.replace('"body":"before', '"body":"\\ud800before'),
    );
    expect(await refusal(body)).toBe('BACKUP_TAMPERED');
    const name = await edited('"type":"contact"', (l) =>
      l.replace('"displayName":"Para', '"displayName":"\\udfffPara'),
    );
    expect(await refusal(name)).toBe('BACKUP_TAMPERED');
    const pair = await edited('"type":"message"', (l) =>
      l.replace('"body":"before', '"body":"\\ud83d\\ude00before'),
    );
    expect(
      await rejectedCode(() => verifyBackup(pair, BACKUP_PASSPHRASE, { deep: true })),
    ).toBeUndefined();
  });
});
