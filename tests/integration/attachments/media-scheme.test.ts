import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { updateAttachment } from '../../../electron/core/attachments/attachment-rows.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import {
  encryptToFile,
  newAttachmentKey,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import { mediaSourceOf } from '../../../electron/core/attachments/media-source.ts';
import type { Profile } from '../../../electron/core/index.ts';
import {
  mediaResponse,
  type MediaResponse,
} from '../../../electron/main/attachment-scheme/media-response.ts';
import { attachmentMediaUrl } from '../../../shared/ipc/attachment-url.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The attachment: scheme's handler (the module main's protocol.handle and the
// Chromium e2e both call) against a real profile with real stored copies:
// whole bodies, every range form, refusals, and a stored copy altered on disk.

/** A video-sized body whose bytes say where they are (so a wrong offset shows). */
const BODY = Buffer.from(Array.from({ length: 200_003 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

async function stored(files: Record<string, Buffer>): Promise<{ profile: Profile; ids: number[] }> {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  const dir = tempDir();
  const paths = Object.entries(files).map(([name, bytes]) => {
    writeFileSync(join(dir, name), bytes);
    return { path: join(dir, name) };
  });
  const queued = await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, paths);
  const ids = attachmentsOf(alice.profile, { messageIds: [queued.id] }).map((a) => a.id);
  return { profile: alice.profile, ids };
}

const lookupIn = (profile: Profile) => (id: number) => Promise.resolve(mediaSourceOf(profile, id));

async function get(profile: Profile, id: number, range: string | null = null) {
  return mediaResponse({ url: attachmentMediaUrl(id), method: 'GET', range }, lookupIn(profile));
}

async function bytesOf(response: MediaResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body ?? []) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('the attachment: scheme over a real profile', () => {
  it('serves a whole file and every range form, decrypted, with the safety headers', async () => {
    const { profile, ids } = await stored({ 'clip.webm': BODY });
    const id = ids[0]!;
    const full = await get(profile, id);
    expect(full.status).toBe(200);
    expect(full.headers).toMatchObject({
      'Content-Type': 'video/webm',
      'Content-Length': String(BODY.length),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Accept-Ranges': 'bytes',
    });
    expect((await bytesOf(full)).equals(BODY)).toBe(true);

    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0], // first byte
      ['bytes=100000-100031', 100_000, 100_031], // middle, across blocks
      ['bytes=17-17', 17, 17], // one byte inside a block
      ['bytes=-5', BODY.length - 5, BODY.length - 1], // suffix
      ['bytes=123457-', 123_457, BODY.length - 1], // open-ended, as Chromium seeks
      ['bytes=199990-999999', 199_990, BODY.length - 1], // end past the body is clamped
      ['bytes=-999999', 0, BODY.length - 1], // suffix longer than the body
    ];
    for (const [range, start, end] of cases) {
      const part = await get(profile, id, range);
      expect(part.status, range).toBe(206);
      expect(part.headers['Content-Range'], range).toBe(`bytes ${start}-${end}/${BODY.length}`);
      expect(part.headers['Content-Length'], range).toBe(String(end - start + 1));
      expect((await bytesOf(part)).equals(BODY.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('refuses bad ranges with 416 and the body size, and HEAD has no body', async () => {
    const { profile, ids } = await stored({ 'still.png': randomBytes(3000) });
    const id = ids[0]!;
    for (const range of [
      'bytes=3000-',
      'bytes=5000-6000',
      'bytes=-0',
      'bytes=10-5',
      'bytes=0-1,5-9',
      'bytes=abc',
      'items=0-1',
      'bytes=-',
    ]) {
      const refused = await get(profile, id, range);
      expect(refused.status, range).toBe(416);
      expect(refused.headers['Content-Range'], range).toBe('bytes */3000');
      expect(refused.body).toBeNull();
    }
    const head = await mediaResponse(
      { url: attachmentMediaUrl(id), method: 'HEAD', range: null },
      lookupIn(profile),
    );
    expect([head.status, head.body, head.headers['Content-Length']]).toEqual([200, null, '3000']);
    const post = await mediaResponse(
      { url: attachmentMediaUrl(id), method: 'POST', range: null },
      lookupIn(profile),
    );
    expect(post.status).toBe(405);
  });

  it('is 404 for an unknown id, a malformed URL, a type off the whitelist and a file not downloaded yet', async () => {
    const { profile, ids } = await stored({
      'a.png': randomBytes(800),
      'page.html': Buffer.from('<script>alert(1)</script>'),
      'notes.pdf': randomBytes(900),
      'b.png': randomBytes(700),
    });
    const [png, html, pdf, pending] = ids as [number, number, number, number];
    expect((await get(profile, png)).status).toBe(200);
    for (const id of [html, pdf, 999_999]) expect((await get(profile, id)).status).toBe(404);
    for (const url of [
      `attachment://media/${png}/../1`,
      `attachment://media/${png}?x=1`,
      `attachment://media/0${png}`,
      `attachment://other/${png}`,
      `app://sotto/${png}`,
    ]) {
      const answer = await mediaResponse({ url, method: 'GET', range: null }, lookupIn(profile));
      expect(answer.status, url).toBe(404);
    }
    // An incoming row still waiting for its download has no stored copy.
    profile.commit(undefined, (db) =>
      updateAttachment(db, pending, {
        state: 'pending',
        local_name: null,
        local_key: null,
        local_digest: null,
      }),
    );
    expect((await get(profile, pending)).status).toBe(404);
  });

  it('a stored copy altered on disk is ATTACHMENT_TAMPERED where it is read, never garbage bytes', async () => {
    const plain = randomBytes(70_000); // two 64 KiB chunks at rest
    const { profile, ids } = await stored({ 'x.png': plain, 'y.png': plain });
    const [first, second] = ids as [number, number];
    expect((await bytesOf(await get(profile, first))).equals(plain)).toBe(true);
    const flip = (id: number, at: number) => {
      const { path } = mediaSourceOf(profile, id)!;
      const bytes = readFileSync(path);
      bytes[at]! ^= 1; // one flipped bit of ciphertext
      writeFileSync(path, bytes);
    };
    flip(first, 40_000); // in the first chunk
    flip(second, 66_000); // in the second
    for (const [id, range] of [
      [first, null],
      [first, 'bytes=0-15'],
      [second, 'bytes=-10'],
      [second, 'bytes=65536-65540'],
    ] as const) {
      const answer = await get(profile, id, range);
      expect(answer.status, `${id} ${range}`).toBe(422);
      expect(answer.headers['X-Sotto-Error']).toBe('ATTACHMENT_TAMPERED');
      expect(answer.body).toBeNull();
    }
    const head = await mediaResponse(
      { url: attachmentMediaUrl(first), method: 'HEAD', range: null },
      lookupIn(profile),
    );
    expect([head.status, head.body]).toEqual([422, null]);
    // Integrity is per chunk: a range the flipped chunk is not in is served, exactly.
    const tail = await get(profile, first, 'bytes=-10');
    expect([tail.status, (await bytesOf(tail)).equals(plain.subarray(-10))]).toEqual([206, true]);
    // A whole-file read of the second starts (its first chunk is fine), then ends in
    // an error before a byte of the altered chunk: what came is exactly the first chunk.
    const whole = await get(profile, second);
    expect(whole.status).toBe(200);
    const came: Buffer[] = [];
    const code = await rejectedCode(async () => {
      for await (const chunk of whole.body ?? []) came.push(chunk);
    });
    expect(code).toBe('ATTACHMENT_TAMPERED');
    expect(Buffer.concat(came).equals(plain.subarray(0, 65_536))).toBe(true);
  });

  it('a copy stored before migration 0015 (format 0, AttachmentV2) is still served, and checked whole', async () => {
    const { profile, ids } = await stored({ 'clip.webm': BODY, 'old.png': BODY });
    const [id, tampered] = ids as [number, number];
    for (const which of [id, tampered]) {
      const key = newAttachmentKey();
      const { path } = mediaSourceOf(profile, which)!;
      const { digest } = await encryptToFile([BODY], BODY.length, key, path);
      profile.commit(undefined, (db) =>
        updateAttachment(db, which, { local_key: key, local_digest: digest, local_format: 0 }),
      );
    }
    expect(mediaSourceOf(profile, id)).toMatchObject({ format: 0 });
    expect((await bytesOf(await get(profile, id))).equals(BODY)).toBe(true);
    const part = await get(profile, id, 'bytes=100000-100031');
    expect((await bytesOf(part)).equals(BODY.subarray(100_000, 100_032))).toBe(true);
    const { path } = mediaSourceOf(profile, tampered)!;
    const bytes = readFileSync(path);
    bytes[150_000]! ^= 1;
    writeFileSync(path, bytes);
    // Format 0 has one MAC for the whole file: any range is refused.
    for (const range of [null, 'bytes=0-15', 'bytes=-10']) {
      expect((await get(profile, tampered, range)).status, String(range)).toBe(422);
    }
  });
});
