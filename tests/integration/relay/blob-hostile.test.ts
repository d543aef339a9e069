import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_PATH_PREFIX, TUS_PATCH_CONTENT_TYPE } from '../../../shared/relay/blobs.ts';
import {
  blobRequest,
  createBlob,
  createBlobAs,
  patch,
  patchHead,
  rawSocket,
  tusHeaders,
  uploadOffset,
  waitFor,
  type CreatedBlob,
} from '../../support/blob-http.ts';
import {
  connectAnonymous,
  connectAs,
  newDevice,
  relayDataDir,
} from '../../support/relay-client.ts';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';

// Hostile blob traffic (docs/relay-protocol.md#blobs): strangers without or
// with the wrong token, path tricks, lies about offsets and lengths, quota
// and cap abuse, slow and concurrent uploads, giant headers, expiry. Every
// refusal leaves the blob as it was. Re-run on PostgreSQL by postgres/blob-hostile.test.ts.

const CAP = 100_000;
const QUOTA = 250_000;
let relay: RelayProcess | undefined;
let blobDir = '';

beforeAll(async () => {
  blobDir = join(relayDataDir(), 'blobs');
  relay = await startRelayProcess(relayDataDir(), {
    args: [
      '--blob-dir',
      blobDir,
      '--max-blob-bytes',
      String(CAP),
      '--blob-quota-bytes',
      String(QUOTA),
      '--blob-idle-timeout-ms',
      '1000',
      '--upgrade-timeout-ms',
      '1000',
    ],
    env: { SOTTO_RELAY_LOG: 'debug' },
  });
});
afterAll(async () => {
  expect(await relay?.stop()).toBe(0);
});
const started = (): RelayProcess => {
  if (relay === undefined) throw new Error('the relay starts in beforeAll');
  return relay;
};
const fresh = (length = 1000): Promise<CreatedBlob> =>
  createBlobAs(started().url, newDevice(), length);

describe('blob.create refusals', () => {
  it('refuses a length over the cap, then the quota, and never on an anonymous connection', async () => {
    const { client } = await connectAs(started().url, newDevice());
    const over = await client.request({ type: 'blob.create', length: CAP + 1 });
    expect(over).toMatchObject({ type: 'error', code: 'RELAY_ERR_TOO_LARGE' });
    // The quota counts declared lengths, finished or not.
    await createBlob(client, CAP);
    await createBlob(client, CAP);
    const full = await client.request({ type: 'blob.create', length: QUOTA - 2 * CAP + 1 });
    expect(full).toMatchObject({ type: 'error', code: 'RELAY_ERR_BLOB_QUOTA' });
    await createBlob(client, QUOTA - 2 * CAP);
    // Another account has its own quota.
    await fresh(CAP);
    await client.close();

    const anonymous = await connectAnonymous(started().url);
    const refused = await anonymous.request({ type: 'blob.create', length: 10 });
    expect(refused).toMatchObject({ type: 'error', code: 'RELAY_ERR_UNAUTHENTICATED' });
    await anonymous.close();
  });
});

describe('blob.create malformed', () => {
  it('closes the connection for a length that is zero, negative, fractional or past 2^53, or extra members', async () => {
    for (const frame of [
      { type: 'blob.create', id: 1, length: 0 },
      { type: 'blob.create', id: 1, length: -5 },
      { type: 'blob.create', id: 1, length: 1.5 },
      { type: 'blob.create', id: 1, length: 1e20 },
      { type: 'blob.create', id: 1, length: '10' },
      { type: 'blob.create', id: 1, length: 10, blobId: 'AAAAAAAAAAAAAAAAAAAAAA' },
    ]) {
      const { client } = await connectAs(started().url, newDevice());
      client.sendJson(frame);
      expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_MALFORMED' });
      expect((await client.closed).code).toBe(1008);
    }
  });
});

describe('blob HTTP refusals', () => {
  it('never changes a complete blob, not even for its own uploader', async () => {
    const { port } = started();
    const bytes = randomBytes(500);
    const blob = await fresh(bytes.length);
    expect((await patch(port, blob, 0, bytes)).status).toBe(204);
    const rewrite = await patch(port, blob, 0, randomBytes(500));
    expect(rewrite.status).toBe(409);
    expect(rewrite.headers['upload-offset']).toBe('500');
    const append = await patch(port, blob, 500, randomBytes(1));
    expect(append.status).toBe(413);
    const empty = await patch(port, blob, 500, new Uint8Array(0));
    expect(empty.status).toBe(204);
    expect((await blobRequest(port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
  });

  it('answers 401 without a token and 404 for a wrong token, another blob’s token or an unknown id', async () => {
    const { port } = started();
    const [blob, other] = [await fresh(), await fresh()];
    const head = (blobId: string, headers: Record<string, string>) =>
      blobRequest(port, 'HEAD', blobId, { headers });
    expect((await head(blob.blobId, { 'tus-resumable': '1.0.0' })).status).toBe(401);
    expect((await head(blob.blobId, tusHeaders('not-a-token'))).status).toBe(401);
    expect(
      (await head(blob.blobId, tusHeaders(randomBytes(32).toString('base64url')))).status,
    ).toBe(404);
    expect((await head(blob.blobId, tusHeaders(other.uploadToken))).status).toBe(404);
    const unknown = randomBytes(16).toString('base64url');
    expect((await head(unknown, tusHeaders(blob.uploadToken))).status).toBe(404);
    expect((await blobRequest(port, 'GET', unknown)).status).toBe(404);
    // A PATCH with another blob's token stores nothing.
    const stolen = await blobRequest(port, 'PATCH', blob.blobId, {
      headers: tusHeaders(other.uploadToken, {
        'upload-offset': '0',
        'content-type': TUS_PATCH_CONTENT_TYPE,
      }),
      body: randomBytes(10),
    });
    expect(stolen.status).toBe(404);
    expect(await uploadOffset(port, blob)).toBe(0);
    // The token is never in a URL the relay accepts, and the tus version is required.
    expect((await head(blob.blobId, { authorization: `Bearer ${blob.uploadToken}` })).status).toBe(
      412,
    );
  });

  it('answers 404 to path tricks and malformed ids, 405 to other methods', async () => {
    const { port } = started();
    const blob = await fresh();
    for (const path of [
      `${BLOB_PATH_PREFIX}..%2f..%2frelay.db`,
      `${BLOB_PATH_PREFIX}../../relay.db`,
      `${BLOB_PATH_PREFIX}${blob.blobId}/..`,
      `${BLOB_PATH_PREFIX}${blob.blobId}?x=1`,
      `${BLOB_PATH_PREFIX}${blob.blobId}x`,
      `${BLOB_PATH_PREFIX}${'A'.repeat(4000)}`,
      `${BLOB_PATH_PREFIX}`,
      `${BLOB_PATH_PREFIX}${readdirSync(blobDir)[0] ?? 'none'}`,
    ]) {
      const answer = await blobRequest(port, 'HEAD', '', {
        path,
        headers: tusHeaders(blob.uploadToken),
      });
      expect(answer.status, path).toBe(404);
    }
    expect((await blobRequest(port, 'DELETE', blob.blobId)).status).toBe(405);
    expect((await blobRequest(port, 'POST', blob.blobId)).status).toBe(405);
  });

  it('refuses an offset mismatch (409), a body past the length (413) and a wrong content type (415)', async () => {
    const { port } = started();
    const bytes = randomBytes(1000);
    const blob = await fresh(bytes.length);
    expect((await patch(port, blob, 0, bytes.subarray(0, 100))).status).toBe(204);
    for (const offset of [0, 50, 101, 5000]) {
      const wrong = await patch(port, blob, offset, bytes.subarray(offset, offset + 10));
      expect(wrong.status).toBe(409);
      expect(wrong.headers['upload-offset']).toBe('100');
    }
    const tooLong = await patch(port, blob, 100, randomBytes(901));
    expect(tooLong.status).toBe(413);
    const badType = await blobRequest(port, 'PATCH', blob.blobId, {
      headers: tusHeaders(blob.uploadToken, {
        'upload-offset': '100',
        'content-type': 'text/plain',
      }),
      body: bytes.subarray(100),
    });
    expect(badType.status).toBe(415);
    const badOffset = await blobRequest(port, 'PATCH', blob.blobId, {
      headers: tusHeaders(blob.uploadToken, {
        'upload-offset': '-1',
        'content-type': TUS_PATCH_CONTENT_TYPE,
      }),
      body: bytes.subarray(100),
    });
    expect(badOffset.status).toBe(400);
    expect(await uploadOffset(port, blob)).toBe(100);

    // A chunked body (no length up front) that runs past the end: only the declared bytes are kept.
    const raw = await rawSocket(port);
    raw.socket.write(
      patchHead(blob, 100, 0).replace('Content-Length: 0', 'Transfer-Encoding: chunked'),
    );
    const extra = Buffer.concat([bytes.subarray(100), randomBytes(500)]);
    raw.socket.write(`${extra.length.toString(16)}\r\n`);
    raw.socket.write(extra);
    raw.socket.write('\r\n0\r\n\r\n');
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 413/);
    expect(await uploadOffset(port, blob)).toBe(bytes.length);
    expect((await blobRequest(port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
  });

  it('refuses a second PATCH while one is in progress (423), and cuts a stalled one after the idle time', async () => {
    const { port } = started();
    const bytes = randomBytes(10_000);
    const blob = await fresh(bytes.length);
    const slow = await rawSocket(port);
    slow.socket.write(patchHead(blob, 0, bytes.length));
    slow.socket.write(bytes.subarray(0, 3000));
    // A byte now and then keeps the first PATCH alive (not idle) however slow the machine is.
    let sent = 3000;
    const trickle = setInterval(() => slow.socket.write(bytes.subarray(sent, ++sent)), 200);
    try {
      await waitFor(async () => (await uploadOffset(port, blob)) >= 3000, 'the first bytes');
      const second = await patch(port, blob, 3000, bytes.subarray(3000));
      expect(second.status).toBe(423);
    } finally {
      clearInterval(trickle);
    }
    // Then nothing more: the relay closes the stalled upload and keeps every byte it got.
    await slow.closed;
    const kept = await uploadOffset(port, blob);
    expect(kept).toBe(sent);
    let resumed = await patch(port, blob, kept, bytes.subarray(kept));
    // The cut PATCH may hold its lock a moment longer (423), never longer than its fsync.
    while (resumed.status === 423) resumed = await patch(port, blob, kept, bytes.subarray(kept));
    expect(resumed.status).toBe(204);
    expect((await blobRequest(port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
  });

  it('cuts slow headers and refuses giant ones', async () => {
    const { port } = started();
    const slow = await rawSocket(port);
    slow.socket.write(`GET ${BLOB_PATH_PREFIX}`);
    await slow.closed;
    expect(slow.received()).toBe('');
    // Over Node's 16 KiB of headers: refused before any handler runs. Node
    // answers 431 and closes; when it closes while the client is still writing
    // the rest of the 64 KiB, the kernel resets the connection and the client
    // may see the reset before the 431 (seen in CI with two test files at once).
    const giant = await blobRequest(port, 'GET', randomBytes(16).toString('base64url'), {
      headers: { 'x-filler': 'a'.repeat(64 * 1024) },
    }).then(
      (answer) => answer.status,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect([431, 'ECONNRESET', 'EPIPE']).toContain(giant);
  });

  it('logs no blob id, token or account', async () => {
    const device = newDevice();
    const blob = await createBlobAs(started().url, device, 10);
    await patch(started().port, blob, 0, randomBytes(10));
    await blobRequest(started().port, 'GET', blob.blobId);
    const output = started().output();
    expect(output).toContain('blob.complete');
    for (const secret of [blob.blobId, blob.uploadToken, device.accountId])
      expect(output).not.toContain(secret);
  });
});

describe('blob expiry', () => {
  it('deletes expired blobs, file and row, finished or not, and frees the quota', async () => {
    const dataDir = relayDataDir();
    const dir = join(dataDir, 'expiring-blobs');
    const expiring = await startRelayProcess(dataDir, {
      args: ['--blob-dir', dir, '--ttl-seconds', '2', '--blob-quota-bytes', '2000'],
    });
    try {
      const device = newDevice();
      const done = await createBlobAs(expiring.url, device, 1000);
      const unfinished = await createBlobAs(expiring.url, device, 1000);
      expect((await patch(expiring.port, done, 0, randomBytes(1000))).status).toBe(204);
      expect((await patch(expiring.port, unfinished, 0, randomBytes(10))).status).toBe(204);
      expect(readdirSync(dir)).toHaveLength(2);
      expect((await blobRequest(expiring.port, 'GET', done.blobId)).status).toBe(200);
      await waitFor(() => readdirSync(dir).length === 0, 'the sweep');
      expect((await blobRequest(expiring.port, 'GET', done.blobId)).status).toBe(404);
      const head = await blobRequest(expiring.port, 'HEAD', unfinished.blobId, {
        headers: tusHeaders(unfinished.uploadToken),
      });
      expect(head.status).toBe(404);
      // The quota counted both; now it is free again.
      await createBlobAs(expiring.url, device, 2000);
    } finally {
      expect(await expiring.stop()).toBe(0);
    }
  });
});
