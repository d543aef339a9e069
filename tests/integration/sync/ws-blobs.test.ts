import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBlobDownloads, WebSocketBlobUploads } from '../../../electron/core/sync/ws-blobs.ts';
import { WebSocketHomeRelay } from '../../../electron/core/sync/ws-home-relay.ts';
import type { BlobUpload } from '../../../electron/core/sync/blobs.ts';
import { blobIdSchema } from '../../../shared/protocol/attachment.ts';
import { newDevice, relayDataDir, type TestDevice } from '../../support/relay-client.ts';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';

// The core's blob transfer with a WebSocket relay (electron/core/sync/ws-blobs.ts)
// against a relay process: reservation over the account connection, tus
// upload in pieces and after a cut, ranged and aborted downloads, and the
// relay's refusals as the SottoErrors electron/core/sync/blobs.ts documents.

const CAP = 2_000_000;
let relay: RelayProcess | undefined;
beforeAll(async () => {
  relay = await startRelayProcess(relayDataDir(), {
    args: ['--max-blob-bytes', String(CAP), '--blob-quota-bytes', String(3 * CAP)],
  });
});
afterAll(async () => {
  expect(await relay?.stop()).toBe(0);
});

const homes: WebSocketHomeRelay[] = [];
afterAll(async () => {
  await Promise.all(homes.map((home) => home.close()));
});

/** A home relay client of a fresh account, and its blob uploads. */
function uploaderFor(device: TestDevice = newDevice()): WebSocketBlobUploads {
  const address = (relay?.url ?? '').replace(/\/v2$/, '');
  const home = new WebSocketHomeRelay(
    address,
    {
      accountId: device.accountId,
      deviceId: device.deviceId,
      identityKey: device.identity.publicKey.serialize(),
      sign: (message) => device.identity.privateKey.sign(message),
    },
    { expected: () => undefined },
  );
  homes.push(home);
  return new WebSocketBlobUploads(address, (length) => home.createBlob(length));
}
const downloads = () => new HttpBlobDownloads((relay?.url ?? '').replace(/\/v2$/, ''));

/** The bytes as an async stream of chunks (as the core reads its ciphertext file). */
function pieces(bytes: Uint8Array, size = 64 * 1024): AsyncIterable<Uint8Array> {
  return Readable.from(
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.subarray(i * size, (i + 1) * size),
    ),
  );
}
async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('WebSocket relay blob transfer', () => {
  it('uploads in pieces, resumes from the relay offset, downloads whole and from an offset', async () => {
    const uploads = uploaderFor();
    const bytes = randomBytes(1_500_000);
    const upload = await uploads.create(bytes.length);
    expect(upload.length).toBe(bytes.length);
    expect(await uploads.offset(upload)).toBe(0);
    expect(await uploads.append(upload, 0, pieces(bytes.subarray(0, 700_000)))).toBe(700_000);
    // A stale offset: the relay says no, nothing moves, the caller asks again.
    await expect(uploads.append(upload, 0, pieces(bytes.subarray(0, 10)))).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
    });
    const resumeAt = await uploads.offset(upload);
    expect(resumeAt).toBe(700_000);
    expect(await uploads.append(upload, resumeAt, pieces(bytes.subarray(resumeAt)))).toBe(
      bytes.length,
    );
    expect(await uploads.offset(upload)).toBe(bytes.length);

    const whole = await downloads().download(upload.blobId, 0);
    expect(whole.length).toBe(bytes.length);
    expect((await collect(whole.body)).equals(bytes)).toBe(true);
    const rest = await downloads().download(upload.blobId, 1_000_000);
    expect(rest.length).toBe(bytes.length);
    expect((await collect(rest.body)).equals(bytes.subarray(1_000_000))).toBe(true);
    const none = await downloads().download(upload.blobId, bytes.length);
    expect((await collect(none.body)).length).toBe(0);
  });

  it('keeps what arrived when the data source fails midway', async () => {
    const uploads = uploaderFor();
    const bytes = randomBytes(600_000);
    const upload = await uploads.create(bytes.length);
    const failing = async function* () {
      yield* pieces(bytes.subarray(0, 256 * 1024));
      throw new Error('disk went away');
    };
    await expect(uploads.append(upload, 0, failing())).rejects.toThrow();
    // The relay keeps a prefix of what it received (it notices the cut first).
    let offset = await uploads.offset(upload);
    for (let tries = 0; tries < 200 && offset === 0; tries++) offset = await uploads.offset(upload);
    expect(offset).toBeLessThanOrEqual(256 * 1024);
    let done = -1;
    while (done < 0) {
      done = await uploads
        .append(upload, offset, pieces(bytes.subarray(offset)))
        .catch(async (error: { code?: string }) => {
          // The relay may still hold the cut PATCH's lock for a moment (423 → try later).
          if (error.code !== 'RELAY_UNAVAILABLE') throw error;
          offset = await uploads.offset(upload);
          return -1;
        });
    }
    expect(done).toBe(bytes.length);
    expect((await collect((await downloads().download(upload.blobId, 0)).body)).equals(bytes)).toBe(
      true,
    );
  });

  it('maps refusals: cap, unknown or unfinished blob, aborted download', async () => {
    const uploads = uploaderFor();
    await expect(uploads.create(CAP + 1)).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_TOO_LARGE',
    });
    const unknown = blobIdSchema.parse(randomBytes(16).toString('base64url'));
    await expect(downloads().download(unknown, 0)).rejects.toMatchObject({
      code: 'ATTACHMENT_NOT_FOUND',
    });
    const upload = await uploads.create(1000);
    await expect(downloads().download(upload.blobId, 0)).rejects.toMatchObject({
      code: 'ATTACHMENT_NOT_FOUND',
    });
    const forged: BlobUpload = { ...upload, uploadToken: randomBytes(32).toString('base64url') };
    await expect(uploads.offset(forged)).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
    // Too many bytes for the declared length.
    await expect(uploads.append(upload, 0, pieces(randomBytes(1001)))).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      detail: 'RELAY_ERR_TOO_LARGE',
    });

    const big = await uploads.create(CAP);
    const bytes = randomBytes(CAP);
    await uploads.append(big, 0, pieces(bytes));
    const controller = new AbortController();
    const download = await downloads().download(big.blobId, 0, controller.signal);
    const reading = (async () => {
      for await (const chunk of download.body) {
        expect(chunk.length).toBeGreaterThan(0);
        controller.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
