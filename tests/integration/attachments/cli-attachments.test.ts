import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import { type ListedAttachment, listedAttachments } from '../../support/attachment-transfer.ts';
import { cli, cliContacts, cliPair, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// `sotto send --file`, `attachments`, `attachment save` and `history --json`
// between real CLI processes through a relay of each kind.

async function json<T>(dir: string, args: string[]): Promise<T> {
  return JSON.parse(await cli(dir, ['--json', ...args])) as T;
}

const startRelay = useAttachmentRelays();

describe.each(ATTACHMENT_RELAY_KINDS)('attachments over a %s relay, from the CLI', (kind) => {
  it('files of 0 B, 1 B, 64 KiB - 1, 64 KiB, 64 KiB + 1 and 10 MiB arrive byte-identical', async () => {
    const relay = await startRelay(kind);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    const sizes = [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1];
    const small = sizes.map((size) => testFile(root, `file-${size}.bin`, size));
    const sent = await json<{ files: number; uploaded: number }>(alice, [
      'send',
      'Bob',
      ...small.flatMap((path) => ['--file', path]),
    ]);
    expect(sent).toMatchObject({ files: 5, uploaded: 5 });
    const big = testFile(root, 'big.bin', 10 * 1024 * 1024);
    await cli(alice, ['send', 'Bob', '--file', big, '--caption', 'the big one']);
    await cli(bob, ['sync']);

    const listed = await listedAttachments(bob, 'Alice');
    expect(listed.map((a) => [a.fileName, a.size, a.state])).toEqual([
      ...sizes.map((size) => [`file-${size}.bin`, size, 'done']),
      ['big.bin', 10 * 1024 * 1024, 'done'],
    ]);
    for (const a of listed) {
      const out = join(root, `saved-${a.id}`);
      await cli(bob, ['attachment', 'save', String(a.id), out]);
      expect(readFileSync(out).equals(testBytes(a.size, a.fileName!))).toBe(true);
    }

    // history --json: the pointers without keys, digests or blob ids.
    const history = await cli(bob, ['--json', 'history', 'Alice']);
    const messages = JSON.parse(history) as { body: string; attachments?: ListedAttachment[] }[];
    expect(messages.map((m) => [m.body, m.attachments?.length])).toEqual([
      ['', 5],
      ['the big one', 1],
    ]);
    expect(Object.keys(messages[1]!.attachments![0]!).sort()).toEqual(
      [
        'contentType',
        // The pointer's playing time (null: senders do not write it yet).
        'durationMs',
        'error',
        'fileName',
        'groupMessageId',
        'height',
        'id',
        'messageId',
        'outgoing',
        'preview',
        'size',
        'state',
        // True only for a download the user cancelled in the app (the CLI fetches everything else).
        'waiting',
        'width',
      ].sort(),
    );
    expect(history).not.toMatch(/"(key|digest|blobId|localKey|uploadToken)"/);
    // The sender lists its own copies too.
    expect((await listedAttachments(alice, 'Bob')).map((a) => a.state)).toEqual(
      Array(6).fill('uploaded'),
    );
  });

  it('save refuses to overwrite without --force; unknown ids, oversized and missing files are refused', async () => {
    const relay = await startRelay(kind);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.address);
    await cli(alice, ['send', 'Bob', '--file', testFile(root, 'a.txt', 100), '--caption', 'hi']);
    await cli(bob, ['sync']);
    const [a] = await listedAttachments(bob, 'Alice');
    const out = join(root, 'out.txt');
    writeFileSync(out, 'keep me');
    const refused = await runCli(bob, ['attachment', 'save', String(a!.id), out]);
    expect(refused.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    await cli(bob, ['attachment', 'save', String(a!.id), out, '--force']);
    expect(readFileSync(out).equals(testBytes(100, 'a.txt'))).toBe(true);

    const unknown = await runCli(bob, ['attachment', 'save', '999', join(root, 'x')]);
    expect(unknown.code).toBe(8);
    expect(unknown.stderr).toContain('UNKNOWN_ATTACHMENT');

    const huge = join(root, 'huge.bin');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_ATTACHMENT_BYTES + 1); // sparse: nothing is read before the size check
    const tooLarge = await runCli(alice, ['send', 'Bob', '--file', huge]);
    expect(tooLarge.code).toBe(2);
    expect(tooLarge.stderr).toContain('ATTACHMENT_TOO_LARGE');
    const missing = await runCli(alice, ['send', 'Bob', '--file', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    // Neither refusal stored a message or a file.
    expect(await listedAttachments(alice, 'Bob')).toHaveLength(1);
  });

  it('a group gets one upload and one pointer; every member saves the same bytes', async () => {
    const relay = await startRelay(kind);
    const root = tempDir();
    const { alice, bob, carol } = await cliContacts(root, relay.address, ['Alice', 'Bob', 'Carol']);
    await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob', '--member', 'Carol']);
    await cli(bob, ['sync']);
    await cli(carol, ['sync']);
    const before = relay.blobSizes().size;
    await cli(alice, ['send', 'Hikers', '--file', testFile(root, 'map.pdf', 300_000)]);
    expect(relay.blobSizes().size).toBe(before + 1);
    for (const dir of [bob, carol]) {
      await cli(dir, ['sync']);
      const [a] = await json<ListedAttachment[]>(dir, ['attachments', 'Hikers']);
      expect(a).toMatchObject({ fileName: 'map.pdf', state: 'done', outgoing: false });
      const out = join(dir, 'map.pdf');
      await cli(dir, ['attachment', 'save', String(a!.id), out]);
      expect(readFileSync(out).equals(testBytes(300_000, 'map.pdf'))).toBe(true);
    }
  });
});
