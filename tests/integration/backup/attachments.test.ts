import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { exportBackup, importBackup, Profile } from '../../../electron/core/index.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { BACKUP_PASSPHRASE, readBackupLines, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { afterTest, befriend, enginePerson } from '../../support/engines.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// Attachments in backups (docs/backup-format.md#attachments): every file comes
// back byte-identical under a fresh local key, a pointer not yet downloaded
// downloads after the restore, restoring twice adds nothing, and no plaintext
// lands on disk. Hostile files are in attachments-hostile.test.ts.

const SIZES = [0, 1, 64 * 1024 + 1, 10 * 1024 * 1024];
const SENTENCE = 'the lighthouse keeper logged nine crates of smuggled cardamom';

interface World {
  relay: string;
  /** Bob received the files (incoming rows), Alice sent them (outgoing rows). */
  bobBackup: string;
  aliceBackup: string;
  bobPassphrase: string;
  files: Buffer[];
  /** The stored copies' local keys and file names in both original profiles (hex, names). */
  originalLocal: Set<string>;
}
let world: World;

/** The plaintext of each file, in position order. */
const fileBytes = () => [
  ...SIZES.map((size, i) => testBytes(size, `file ${i}`)),
  Buffer.from(`${SENTENCE}\n`.repeat(500)),
];

// The relay folder and the backups outlive each test (tempDir's are removed after every test).
const suite = mkdtempSync(join(tmpdir(), 'sotto-backup-attachments-'));
afterAll(() => rmSync(suite, { recursive: true, force: true }));

beforeAll(async () => {
  const relay = join(suite, 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  const source = tempDir();
  const files = fileBytes();
  const paths = files.map((_, i) =>
    i < SIZES.length ? testFile(source, `f${i}`, SIZES[i]!, `file ${i}`) : join(source, 'log.txt'),
  );
  writeFileSync(paths[SIZES.length]!, files[SIZES.length]!);
  await queueAttachmentMessage(
    alice.profile,
    bob.profile.account.accountId,
    paths.map((path) => ({ path })),
    'the files',
  );
  await alice.engine.sendOutbox();
  await bob.engine.receive({ firstWaitMs: 200 });
  const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual(
    files.map(() => 'done'),
  );
  const bobBackup = join(suite, 'bob.age');
  const aliceBackup = join(suite, 'alice.age');
  const options = { passphrase: BACKUP_PASSPHRASE, scryptLogN: TEST_SCRYPT_LOG_N };
  await exportBackup(bob.profile, bobBackup, options);
  await exportBackup(alice.profile, aliceBackup, options);
  const originalLocal = new Set(
    [alice, bob].flatMap((p) =>
      p.profile.db
        .prepare('SELECT hex(local_key) AS k, local_name AS n FROM attachments')
        .all<{ k: string; n: string }>()
        .flatMap((r) => [r.k, r.n]),
    ),
  );
  world = { relay, bobBackup, aliceBackup, bobPassphrase: bob.passphrase, files, originalLocal };
}, 120_000);

async function restore(file: string) {
  const dir = join(tempDir(), 'restored');
  const report = await importBackup(dir, file, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
  });
  const profile = await Profile.open(dir, { passphrase: 'restored passphrase' });
  afterTest(() => profile.close());
  return { dir, report, profile };
}

/** Saves every attachment of the profile and returns their bytes, in message then position order. */
async function savedFiles(profile: Profile): Promise<Buffer[]> {
  const ids = profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
  const out = tempDir();
  const saved: Buffer[] = [];
  for (const a of attachmentsOf(profile, { messageIds: ids })) {
    await saveAttachment(profile, a.id, join(out, String(a.id)));
    saved.push(readFileSync(join(out, String(a.id))));
  }
  return saved;
}

const storedNames = (dir: string) =>
  readdirSync(join(dir, 'attachments'), { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

describe('attachments in a backup', () => {
  it('the file carries each attachment record then its bytes, in 48 KiB pieces', async () => {
    const lines = await readBackupLines(world.bobBackup);
    const manifest = JSON.parse(lines[0]!) as { version: number; counts: Record<string, number> };
    expect(manifest.version).toBe(7); // 3 brought attachments, 4 mutes, 5 deleted messages, 6 their senders and durations, 7 attachments' senders
    expect(manifest.counts.attachment).toBe(world.files.length);
    const pieces = world.files.reduce((n, f) => n + Math.ceil(f.length / (48 * 1024)), 0);
    expect(manifest.counts.attachmentData).toBe(pieces);
    const types = lines.map((l) => /^\{"type":"(\w+)"/.exec(l)![1]);
    const first = types.indexOf('attachment');
    expect(types.slice(first).every((t) => t === 'attachment' || t === 'attachmentData')).toBe(
      true,
    );
  });

  it.each(['received', 'sent'] as const)(
    '%s files come back byte-identical (0 B, 1 B, 64 KiB + 1, 10 MiB, text) under fresh local keys',
    async (side) => {
      const { dir, report, profile } = await restore(
        side === 'received' ? world.bobBackup : world.aliceBackup,
      );
      expect(report.attachmentsRestored).toBe(world.files.length);
      const ids = profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
      expect(attachmentsOf(profile, { messageIds: ids }).map((a) => a.state)).toEqual(
        world.files.map(() => (side === 'received' ? 'done' : 'uploaded')),
      );
      const saved = await savedFiles(profile);
      expect(saved.map((b) => b.length)).toEqual(world.files.map((f) => f.length));
      saved.forEach((bytes, i) => expect(bytes.equals(world.files[i]!)).toBe(true));
      expect(storedNames(dir)).toHaveLength(world.files.length);
      const local = profile.db
        .prepare('SELECT hex(local_key) AS k, local_name AS n FROM attachments')
        .all<{ k: string; n: string }>();
      expect(
        local.filter((r) => world.originalLocal.has(r.k) || world.originalLocal.has(r.n)),
      ).toEqual([]);
      expect(readdirSync(join(dir, 'attachments', 'tmp'))).toEqual([]);

      // At rest: nothing under the restored profile holds a recognizable piece of any file.
      const needles = [
        Buffer.from(SENTENCE),
        Buffer.from(Buffer.from(SENTENCE).toString('base64')),
        ...[2, 3].flatMap((i) =>
          [0, 1, 2].map((k) => world.files[i]!.subarray(k * 20_000, k * 20_000 + 32)),
        ),
      ];
      for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        const bytes = readFileSync(join(entry.parentPath, entry.name));
        for (const needle of needles) expect(bytes.includes(needle)).toBe(false);
      }
    },
    120_000,
  );

  it('restoring the same backup again (a merge) adds no row and leaves no extra file', async () => {
    const { dir, profile } = await restore(world.bobBackup);
    const before = storedNames(dir);
    await profile.close();
    const again = await importBackup(dir, world.bobBackup, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase: 'restored passphrase' },
    });
    expect(again.attachmentsRestored).toBe(0);
    expect(storedNames(dir)).toEqual(before);
    const reopened = await Profile.open(dir, { passphrase: 'restored passphrase' });
    afterTest(() => reopened.close());
    expect(reopened.db.prepare('SELECT count(*) FROM attachments', { pluck: true }).get()).toBe(
      world.files.length,
    );
    expect((await savedFiles(reopened)).every((b, i) => b.equals(world.files[i]!))).toBe(true);
  }, 120_000);

  it('a file not downloaded when the backup was made keeps its pointer and downloads after the restore', async () => {
    // Bob's profile with its first stored copy lost: what orphan repair leaves (state pending).
    const { profile } = await restore(world.bobBackup);
    profile.commit(undefined, (db) =>
      db
        .prepare(
          `UPDATE attachments SET state = 'pending', local_name = NULL, local_key = NULL, local_digest = NULL
           WHERE position = 3`,
        )
        .run(),
    );
    const pendingBackup = join(tempDir(), 'pending.age');
    await exportBackup(profile, pendingBackup, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    const lines = await readBackupLines(pendingBackup);
    const pending = lines
      .filter((l) => l.startsWith('{"type":"attachment",'))
      .map((l) => JSON.parse(l) as { state: string; sha256: string | null; blobId: string });
    expect(pending[3]).toMatchObject({ state: 'pending', sha256: null });
    expect(pending[3]!.blobId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const restored = await restore(pendingBackup);
    const ids = restored.profile.db
      .prepare('SELECT id FROM messages', { pluck: true })
      .all<number>();
    expect(attachmentsOf(restored.profile, { messageIds: ids })[3]!.state).toBe('pending');
    const engine = new SyncEngine(restored.profile);
    afterTest(() => engine.close());
    await engine.receive({ firstWaitMs: 100 });
    expect(attachmentsOf(restored.profile, { messageIds: ids }).map((a) => a.state)).toEqual(
      world.files.map(() => 'done'),
    );
    const saved = await savedFiles(restored.profile);
    expect(saved[3]!.equals(world.files[3]!)).toBe(true);
  }, 120_000);

  it('a cancelled restore leaves no file in the profile it was merging into', async () => {
    const { dir, profile } = await restore(world.bobBackup);
    await profile.close();
    const before = storedNames(dir);
    const controller = new AbortController();
    await expect(
      importBackup(dir, world.bobBackup, {
        passphrase: BACKUP_PASSPHRASE,
        unlock: { passphrase: 'restored passphrase' },
        signal: controller.signal,
        onProgress: (p) => {
          // Midway through pass 2, inside the 10 MiB file's data.
          if (p.phase === 'import' && p.unit === 'bytes' && p.done > p.total / 2)
            controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(storedNames(dir)).toEqual(before);
    expect(readdirSync(join(dir, 'attachments', 'tmp'))).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.includes('restore'))).toEqual([]);
    expect(existsSync(join(dir, 'sotto.db'))).toBe(true);
  }, 120_000);
});
