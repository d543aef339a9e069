import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blobRequest,
  createBlobAs,
  patch,
  patchHead,
  rawSocket,
  uploadOffset,
  waitFor,
} from '../../support/blob-http.ts';
import { newDevice, relayDataDir } from '../../support/relay-client.ts';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';

// Blobs on a relay process (docs/relay-protocol.md#blobs): resumable upload
// in pieces and after a cut PATCH, ranged downloads. Re-run on PostgreSQL by
// postgres/blobs.test.ts (the blob directory is passed explicitly, as a
// --database node needs it).

let relay: RelayProcess | undefined;
let blobDir = '';
beforeAll(async () => {
  blobDir = join(relayDataDir(), 'blobs');
  relay = await startRelayProcess(relayDataDir(), { args: ['--blob-dir', blobDir] });
});
afterAll(async () => {
  expect(await relay?.stop()).toBe(0);
});
const started = (): RelayProcess => {
  if (relay === undefined) throw new Error('the relay starts in beforeAll');
  return relay;
};

describe('blob upload and download', () => {
  it('uploads in pieces, reports the offset, then serves the blob whole and in ranges', async () => {
    const { url, port } = started();
    const bytes = randomBytes(300_000);
    const blob = await createBlobAs(url, newDevice(), bytes.length);
    expect(blob.blobId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(blob.expiresAt).toBeGreaterThan(Date.now());
    expect(await uploadOffset(port, blob)).toBe(0);
    // Unfinished: nobody can download it yet.
    expect((await blobRequest(port, 'GET', blob.blobId)).status).toBe(404);

    const first = await patch(port, blob, 0, bytes.subarray(0, 100_000));
    expect(first.status).toBe(204);
    expect(first.headers['upload-offset']).toBe('100000');
    expect(first.headers['tus-resumable']).toBe('1.0.0');
    expect(await uploadOffset(port, blob)).toBe(100_000);
    expect((await patch(port, blob, 100_000, bytes.subarray(100_000, 250_000))).status).toBe(204);
    const last = await patch(port, blob, 250_000, bytes.subarray(250_000));
    expect(last.headers['upload-offset']).toBe(String(bytes.length));
    expect(await uploadOffset(port, blob)).toBe(bytes.length);

    const whole = await blobRequest(port, 'GET', blob.blobId);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-length']).toBe(String(bytes.length));
    expect(whole.body.equals(bytes)).toBe(true);

    const tail = await blobRequest(port, 'GET', blob.blobId, {
      headers: { range: 'bytes=123456-' },
    });
    expect(tail.status).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes 123456-${bytes.length - 1}/${bytes.length}`);
    expect(tail.body.equals(bytes.subarray(123_456))).toBe(true);

    const middle = await blobRequest(port, 'GET', blob.blobId, {
      headers: { range: 'bytes=10-19' },
    });
    expect(middle.status).toBe(206);
    expect(middle.body.equals(bytes.subarray(10, 20))).toBe(true);
    // An end past the blob is clipped to its last byte.
    const clipped = await blobRequest(port, 'GET', blob.blobId, {
      headers: { range: `bytes=${bytes.length - 5}-${bytes.length + 100}` },
    });
    expect(clipped.body.equals(bytes.subarray(bytes.length - 5))).toBe(true);

    for (const range of [
      `bytes=${bytes.length}-`,
      'bytes=20-10',
      'bytes=-5',
      'bytes=0-1,5-6',
      'items=0-',
    ]) {
      const refused = await blobRequest(port, 'GET', blob.blobId, { headers: { range } });
      expect(refused.status, range).toBe(416);
      expect(refused.headers['content-range']).toBe(`bytes */${bytes.length}`);
    }
  });

  it('keeps the prefix of a PATCH cut mid-body, and the upload resumes from it', async () => {
    const { url, port } = started();
    const bytes = randomBytes(1_000_000);
    const blob = await createBlobAs(url, newDevice(), bytes.length);
    const raw = await rawSocket(port);
    raw.socket.write(patchHead(blob, 0, bytes.length));
    const sent = 400_000;
    raw.socket.write(bytes.subarray(0, sent));
    // HEAD reports the file's size: once it shows every byte sent, cut the connection.
    await waitFor(async () => (await uploadOffset(port, blob)) === sent, 'the first bytes');
    raw.socket.destroy();
    // Until the relay notices the cut, the upload is busy (423); then it resumes at the prefix.
    let resumed = await patch(port, blob, sent, bytes.subarray(sent));
    while (resumed.status === 423) resumed = await patch(port, blob, sent, bytes.subarray(sent));
    expect(resumed.status).toBe(204);
    expect(resumed.headers['upload-offset']).toBe(String(bytes.length));
    const whole = await blobRequest(port, 'GET', blob.blobId);
    expect(whole.body.equals(bytes)).toBe(true);
    // Bytes live in the blob directory under a random name, never the blob id.
    expect(readdirSync(blobDir).some((name) => name.includes(blob.blobId))).toBe(false);
  });
});
