import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// At rest, attachments leave no plaintext anywhere: neither profile (stored
// copies, transfer temp files, database, WAL) nor the relay folder holds a
// recognizable piece of a sent text file or image, while open and after close.

const SENTENCE = 'the harbour ledger lists seventeen crates of contraband saffron';
const CAPTION = 'quarterly lighthouse inventory, keep quiet';

/** Every file under `dir`, recursively. */
function walk(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { path, bytes: readFileSync(path) };
    });
}

/** A recognizable PNG-shaped image: the signature, a header and a patterned body. */
function image(): Buffer {
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 8)) & 0xff;
  return Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), body]);
}

function textNeedles(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  return [
    bytes,
    Buffer.from(bytes.toString('hex')),
    Buffer.from(bytes.toString('base64')),
    Buffer.from(text, 'utf16le'),
  ];
}

/** 32-byte windows spread over the image (any plaintext copy would contain them). */
function imageNeedles(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 32 <= bytes.length; at += Math.floor(bytes.length / 24))
    out.push(bytes.subarray(at, at + 32));
  return out;
}

describe('attachments at rest', () => {
  it('a text file and an image, sent and received: no file under either profile or the relay holds their plaintext', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    befriend(alice, bob);
    const source = tempDir();
    const text = join(source, 'ledger.txt');
    writeFileSync(text, `${SENTENCE}\n`.repeat(2_000));
    const png = join(source, 'map.png');
    const imageBytes = image();
    writeFileSync(png, imageBytes);
    await queueAttachmentMessage(
      alice.profile,
      bob.profile.account.accountId,
      [{ path: text }, { path: png }],
      CAPTION,
    );
    await alice.engine.sendOutbox();
    await bob.engine.receive({ firstWaitMs: 200 });
    const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual([
      'done',
      'done',
    ]);

    const needles = [
      ...textNeedles(SENTENCE),
      ...textNeedles(CAPTION),
      ...imageNeedles(imageBytes),
    ];
    const scan = (phase: string) => {
      const files = [...walk(alice.dir), ...walk(bob.dir), ...walk(relay)];
      // The stored copies and the relay's blob are among the files scanned.
      expect(
        files.filter((f) => f.path.includes(`${join('attachments', '')}`)).length,
      ).toBeGreaterThanOrEqual(4);
      expect(files.some((f) => f.path.endsWith('.data'))).toBe(true);
      for (const file of files)
        for (const needle of needles)
          expect(file.bytes.includes(needle), `${phase}: ${file.path} holds plaintext`).toBe(false);
    };
    scan('open');
    await alice.engine.close();
    await bob.engine.close();
    await alice.profile.close();
    await bob.profile.close();
    scan('closed');
  });
});
