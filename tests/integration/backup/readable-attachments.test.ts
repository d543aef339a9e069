import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Decrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import {
  exportBackup,
  exportConversation,
  importBackup,
  Profile,
} from '../../../electron/core/index.ts';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { createGroup } from '../../../electron/core/groups/group-ops.ts';
import { testBytes } from '../../support/attachment-relays.ts';
import { BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { befriend, person, settle } from '../../support/group-world.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// A readable HTML export with files: each stored attachment, 1:1 and group,
// decrypted into a folder beside the page under a safe unique name and linked
// from its message; encrypted, page and files are one tar inside the age file.

/** Names a sender may give a file (all valid in a pointer), each hostile to some file system. */
const HOSTILE = [
  'con',
  'CON.txt',
  'Report.txt',
  'report.txt',
  'a:b*c?.txt',
  '\u202etxt.exe',
  `${'x'.repeat(200)}.txt`,
  're\u0301sume\u0301 📄.txt',
  '.hidden',
  'empty.txt',
];

async function world() {
  const relay = join(tempDir(), 'relay');
  const alice = await person('Alice', relay);
  const bob = await person('Bob', relay);
  befriend(alice, bob);
  const source = tempDir();
  const originals: Buffer[] = [];
  const write = (name: string, i: number) => {
    const dir = join(source, String(i));
    mkdirSync(dir);
    const bytes = name === 'empty.txt' ? Buffer.alloc(0) : testBytes(1000 + i, name);
    writeFileSync(join(dir, name), bytes);
    originals.push(bytes);
    return { path: join(dir, name) };
  };
  const files = HOSTILE.map(write);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, files, 'names');
  // An image carries no file name: it is named after its id.
  const image = write('photo.png', 90);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [image]);
  const group = await createGroup(alice.profile, 'Files', [bob.profile.account.accountId]);
  await settle([alice, bob]);
  await queueGroupAttachmentMessage(alice.profile, group.groupId, [
    write('Report.txt', 91),
    write('group notes.txt', 92),
  ]);
  await settle([alice, bob]);
  return { bob, originals };
}

/** The decoded targets of the page's links, and the folder's files by name. */
function linked(page: string, dir: string): { targets: string[]; bytes: Buffer[] } {
  const targets = [...page.matchAll(/<a href="([^"]+)">/g)].map((m) =>
    decodeURIComponent(m[1]!.replaceAll('&#38;', '&')),
  );
  return { targets, bytes: targets.map((t) => readFileSync(join(dir, t))) };
}

function checkNames(names: readonly string[]): void {
  expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
  for (const name of names) {
    expect(name).not.toMatch(/^\.|[/\\:*?"<>|]/);
    // eslint-disable-next-line no-control-regex
    expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(name.split('.')[0]).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)$/i);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(120);
    expect(name).toBe(name.normalize('NFC'));
  }
}

describe('readable export with attachments', () => {
  it('HTML writes every file, 1:1 and group, beside the page under safe unique names, each linked and byte-identical', async () => {
    const { bob, originals } = await world();
    const out = tempDir();
    const page = join(out, 'chat.html');
    await exportConversation(bob.profile, page, { conversation: 'all', format: 'html' });
    const names = readdirSync(join(out, 'chat_files'));
    expect(names).toHaveLength(originals.length);
    checkNames(names);
    const html = readFileSync(page, 'utf8');
    const { targets, bytes } = linked(html, out);
    expect(targets).toHaveLength(originals.length);
    for (const target of targets) {
      expect(relative(join(out, 'chat_files'), resolve(out, target))).not.toMatch(/^\.\.|\//);
    }
    const sorted = (list: Buffer[]) => list.map((b) => b.toString('hex')).sort();
    expect(sorted(bytes)).toEqual(sorted(originals));
    expect(names).toContain('_con');
    expect(names).toContain('report (2).txt');
    expect(names.some((n) => n.startsWith('attachment-'))).toBe(true);
    // Nothing else was left beside the page.
    expect(readdirSync(out).sort()).toEqual(['chat.html', 'chat_files']);
  }, 120_000);

  it('encrypted, the page and its files are one tar archive inside the age file, nothing else on disk', async () => {
    const { bob, originals } = await world();
    const out = tempDir();
    const file = join(out, 'chat.html.age');
    await exportConversation(bob.profile, file, {
      conversation: 'all',
      format: 'html',
      encryptWith: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    expect(readdirSync(out)).toEqual(['chat.html.age']);
    const d = new Decrypter();
    d.addPassphrase(BACKUP_PASSPHRASE);
    const archive = join(tempDir(), 'export.tar');
    writeFileSync(archive, await d.decrypt(readFileSync(file)));
    // Another implementation (GNU or BSD tar) reads the archive.
    const extracted = tempDir();
    execFileSync('tar', ['-xf', archive, '-C', extracted]);
    expect(readdirSync(extracted).sort()).toEqual(['chat.html', 'chat_files']);
    const html = readFileSync(join(extracted, 'chat.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const names = readdirSync(join(extracted, 'chat_files'));
    checkNames(names);
    const { bytes } = linked(html, extracted);
    const sorted = (list: Buffer[]) => list.map((b) => b.toString('hex')).sort();
    expect(sorted(bytes)).toEqual(sorted(originals));
    expect(existsSync(join(out, 'chat_files'))).toBe(false);
  }, 120_000);

  it('a backup carries group attachments too: restored under the group message, byte-identical', async () => {
    const { bob, originals } = await world();
    const backup = join(tempDir(), 'bob.age');
    await exportBackup(bob.profile, backup, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    const dir = join(tempDir(), 'restored');
    const report = await importBackup(dir, backup, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
    });
    expect(report.attachmentsRestored).toBe(originals.length);
    const profile = await Profile.open(dir, { passphrase: 'restored passphrase' });
    try {
      const groupIds = profile.db
        .prepare('SELECT id FROM group_messages ORDER BY id', { pluck: true })
        .all<number>();
      const inGroup = attachmentsOf(profile, { groupMessageIds: groupIds });
      expect(inGroup.map((a) => [a.fileName, a.state])).toEqual([
        ['Report.txt', 'done'],
        ['group notes.txt', 'done'],
      ]);
      const out = tempDir();
      for (const [i, a] of inGroup.entries()) {
        await saveAttachment(profile, a.id, join(out, String(i)));
        expect(readFileSync(join(out, String(i))).equals(originals.at(-2 + i)!)).toBe(true);
      }
    } finally {
      await profile.close();
    }
  }, 120_000);
});
