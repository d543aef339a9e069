import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PART_BYTES } from '../../../relay/blobs/s3-manifest.ts';
import {
  blobRequest,
  createBlobAs,
  patch,
  patchHead,
  rawSocket,
  tusHeaders,
  uploadOffset,
  waitFor,
} from '../../support/blob-http.ts';
import { newDevice, relayDataDir } from '../../support/relay-client.ts';
import { runRelayCli, startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';
import { startTestS3, TEST_S3_ENV, type TestS3 } from '../../support/s3.ts';

// A relay process whose blobs live in an S3-compatible bucket (s3rver over a
// real socket; docs/relay-operations.md#blobs): uploads in pieces of odd
// sizes across 5 MiB parts, a cut PATCH resumed, kill -9 mid-upload resumed
// on a restarted relay, ranged GETs, the expiry sweep, and the settings.

let s3: TestS3;
let dataDir = '';
let relay: RelayProcess;
const start = (directory: string, args: readonly string[] = []): Promise<RelayProcess> =>
  startRelayProcess(directory, { args: [...s3.relayArgs, ...args], env: TEST_S3_ENV });
beforeAll(async () => {
  s3 = await startTestS3();
  dataDir = relayDataDir();
  relay = await start(dataDir);
});
afterAll(async () => {
  expect(await relay.stop()).toBe(0);
  await s3.stop();
});

const MIB = 1024 * 1024;

describe('blobs in an S3-compatible bucket', () => {
  it('uploads in pieces of 1 byte, 5 MiB - 1, 5 MiB + 1 and the rest; serves it whole and in ranges', async () => {
    const { url, port } = relay;
    const bytes = randomBytes(12 * MIB + 7);
    const blob = await createBlobAs(url, newDevice(), bytes.length);
    let offset = 0;
    for (const size of [1, PART_BYTES - 1, PART_BYTES + 1, bytes.length - 2 * PART_BYTES - 1]) {
      const answer = await patch(port, blob, offset, bytes.subarray(offset, offset + size));
      expect(answer.status).toBe(204);
      offset += size;
      expect(answer.headers['upload-offset']).toBe(String(offset));
      expect(await uploadOffset(port, blob)).toBe(offset);
    }
    const whole = await blobRequest(port, 'GET', blob.blobId);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(bytes)).toBe(true);
    // Ranges across a part boundary, inside the last (short) part, and open-ended.
    for (const [from, to] of [
      [PART_BYTES - 3, PART_BYTES + 3],
      [2 * PART_BYTES + 2, 2 * PART_BYTES + 5],
      [bytes.length - 10, undefined],
    ] as const) {
      const range = await blobRequest(port, 'GET', blob.blobId, {
        headers: { range: `bytes=${from}-${to ?? ''}` },
      });
      expect(range.status).toBe(206);
      expect(range.body.equals(bytes.subarray(from, (to ?? bytes.length - 1) + 1))).toBe(true);
    }
    // Finished: no manifest or tail left behind.
    expect((await s3.keys()).filter((key) => key.startsWith('uploads/'))).toEqual([]);
  });

  it('keeps what a cut PATCH delivered (the tail object) and resumes from it', async () => {
    const { url, port } = relay;
    const bytes = randomBytes(3 * MIB);
    const blob = await createBlobAs(url, newDevice(), bytes.length);
    const raw = await rawSocket(port);
    raw.socket.write(patchHead(blob, 0, bytes.length));
    raw.socket.write(bytes.subarray(0, 1_234_567));
    // FIN after the bytes (end, not destroy, so none is dropped): the body is cut short.
    raw.socket.end();
    await waitFor(async () => (await uploadOffset(port, blob)) === 1_234_567, 'the tail object');
    expect((await patch(port, blob, 1_234_567, bytes.subarray(1_234_567))).status).toBe(204);
    expect((await blobRequest(port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
  });

  it('resumes after kill -9 mid-upload from the last durable part, on a restarted relay', async () => {
    const bytes = randomBytes(8 * MIB);
    const blob = await createBlobAs(relay.url, newDevice(), bytes.length);
    expect((await patch(relay.port, blob, 0, bytes.subarray(0, 300_000))).status).toBe(204);
    const raw = await rawSocket(relay.port);
    raw.socket.write(patchHead(blob, 300_000, bytes.length - 300_000));
    raw.socket.write(bytes.subarray(300_000, 6 * MIB));
    await waitFor(async () => (await uploadOffset(relay.port, blob)) === PART_BYTES, 'a part');
    process.kill(relay.pid, 'SIGKILL');
    expect(await relay.stop()).toBeNull();
    raw.socket.destroy();

    relay = await start(dataDir);
    // The part is durable; the bytes after it were in the dead relay's memory.
    expect(await uploadOffset(relay.port, blob)).toBe(PART_BYTES);
    expect((await patch(relay.port, blob, PART_BYTES, bytes.subarray(PART_BYTES))).status).toBe(
      204,
    );
    expect((await blobRequest(relay.port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
  });

  it('reports only the durable parts when the tail object was truncated behind its back, never its bytes', async () => {
    const { url, port } = relay;
    const bytes = randomBytes(PART_BYTES + 5000);
    const blob = await createBlobAs(url, newDevice(), bytes.length + 1);
    const before = new Set(await s3.keys());
    expect((await patch(port, blob, 0, bytes)).status).toBe(204);
    const tails = (await s3.keys()).filter((key) => !before.has(key) && key.endsWith('/tail'));
    expect(tails).toHaveLength(1);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: tails[0],
        Body: bytes.subarray(PART_BYTES, PART_BYTES + 10),
      }),
    );
    expect(await uploadOffset(port, blob)).toBe(PART_BYTES);
    // The client resends from the durable offset; the finished blob is exactly what it sent.
    const rest = Buffer.concat([bytes.subarray(PART_BYTES), randomBytes(1)]);
    expect((await patch(port, blob, PART_BYTES, rest)).status).toBe(204);
    const whole = await blobRequest(port, 'GET', blob.blobId);
    expect(whole.body.equals(Buffer.concat([bytes, rest.subarray(rest.length - 1)]))).toBe(true);
  });

  it('answers 500 for an upload whose manifest was damaged, and writes nothing for it', async () => {
    const { url, port } = relay;
    const blob = await createBlobAs(url, newDevice(), 2000);
    const before = new Set(await s3.keys());
    expect((await patch(port, blob, 0, randomBytes(1000))).status).toBe(204);
    // The PATCH wrote this blob's first tail: its manifest is next to it.
    const tail = (await s3.keys()).find((key) => !before.has(key) && key.endsWith('/tail'));
    const manifest = tail?.replace(/tail$/, 'manifest');
    expect(manifest).toMatch(/^uploads\/[0-9a-f]{32}\/manifest$/);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: manifest,
        Body: '{"uploadId":"x","parts":[],"tail":99999999}',
      }),
    );
    const keys = await s3.keys();
    expect(
      (await blobRequest(port, 'HEAD', blob.blobId, { headers: tusHeaders(blob.uploadToken) }))
        .status,
    ).toBe(500);
    expect((await patch(port, blob, 1000, randomBytes(1000))).status).toBe(500);
    expect(await s3.keys()).toEqual(keys);
    expect(relay.output()).not.toContain(blob.blobId);
  });

  it('answers 500 while the S3 server is down, and resumes from the durable offset once it is back', async () => {
    const own = await startTestS3();
    const node = await startRelayProcess(relayDataDir(), {
      args: [...own.relayArgs],
      env: TEST_S3_ENV,
    });
    try {
      const bytes = randomBytes(2 * MIB);
      const blob = await createBlobAs(node.url, newDevice(), bytes.length);
      expect((await patch(node.port, blob, 0, bytes.subarray(0, MIB))).status).toBe(204);
      await own.pause();
      expect((await patch(node.port, blob, MIB, bytes.subarray(MIB))).status).toBe(500);
      const head = await blobRequest(node.port, 'HEAD', blob.blobId, {
        headers: tusHeaders(blob.uploadToken),
      });
      expect(head.status).toBe(500);
      await own.resume();
      expect(await uploadOffset(node.port, blob)).toBe(MIB);
      expect((await patch(node.port, blob, MIB, bytes.subarray(MIB))).status).toBe(204);
      expect((await blobRequest(node.port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
    } finally {
      expect(await node.stop()).toBe(0);
      await own.stop();
    }
  });

  it('sweeps expired blobs: the finished object, the tail and manifest of an unfinished upload', async () => {
    const own = await startTestS3();
    const expiring = await startRelayProcess(relayDataDir(), {
      args: [...own.relayArgs, '--ttl-seconds', '2'],
      env: TEST_S3_ENV,
    });
    try {
      const device = newDevice();
      const done = await createBlobAs(expiring.url, device, 1000);
      const unfinished = await createBlobAs(expiring.url, device, PART_BYTES + 10);
      expect((await patch(expiring.port, done, 0, randomBytes(1000))).status).toBe(204);
      const some = randomBytes(PART_BYTES + 1);
      expect((await patch(expiring.port, unfinished, 0, some)).status).toBe(204);
      expect((await own.keys()).length).toBe(3); // the finished object, a manifest and a tail
      await waitFor(async () => (await own.keys()).length === 0, 'the sweep');
      expect((await blobRequest(expiring.port, 'GET', done.blobId)).status).toBe(404);
      const head = await blobRequest(expiring.port, 'HEAD', unfinished.blobId, {
        headers: tusHeaders(unfinished.uploadToken),
      });
      expect(head.status).toBe(404);
    } finally {
      expect(await expiring.stop()).toBe(0);
      await own.stop();
    }
  });
});

describe('S3 blob settings', () => {
  it('refuses --blob-dir with --blob-s3-bucket, S3 settings without a bucket, keys as flags', async () => {
    const data = relayDataDir();
    for (const args of [
      ['--blob-dir', join(data, 'blobs'), '--blob-s3-bucket', 'sotto-blobs'],
      ['--blob-s3-endpoint', 'http://127.0.0.1:9'],
      ['--blob-s3-bucket', 'sotto-blobs', '--blob-s3-secret-access-key', 'hunter2-secret'],
      ['--blob-s3-bucket', 'sotto-blobs', '--blob-s3-endpoint', 'file:///etc'],
    ]) {
      const { code, stderr } = await runRelayCli(['--data', data, ...args]);
      expect(code).toBe(2);
      expect(stderr).not.toContain('hunter2-secret');
    }
  });

  it('takes the bucket and keys from the config file and says only what failed, never the keys', async () => {
    const data = relayDataDir();
    const config = join(data, 'relay.json');
    writeFileSync(
      config,
      JSON.stringify({
        'blob-s3-bucket': 'no-such-bucket',
        'blob-s3-endpoint': s3.endpoint,
        'blob-s3-path-style': true,
        'blob-s3-access-key-id': 'AKIA-VISIBLE-ID',
        'blob-s3-secret-access-key': 'very-secret-key',
      }),
    );
    const failed = await runRelayCli(['--data', data, '--config', config]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/cannot reach the S3 bucket \(\w+\)/);
    for (const secret of ['AKIA-VISIBLE-ID', 'very-secret-key'])
      expect(failed.stderr).not.toContain(secret);
    // The real bucket and keys in the file, the path style from the environment:
    // it serves blobs, and the file's keys beat wrong AWS_* variables.
    writeFileSync(
      config,
      JSON.stringify({
        'blob-s3-bucket': s3.bucket,
        'blob-s3-endpoint': s3.endpoint,
        'blob-s3-access-key-id': TEST_S3_ENV.AWS_ACCESS_KEY_ID,
        'blob-s3-secret-access-key': TEST_S3_ENV.AWS_SECRET_ACCESS_KEY,
      }),
    );
    const configured = await startRelayProcess(data, {
      args: ['--config', config],
      env: {
        SOTTO_RELAY_BLOB_S3_PATH_STYLE: 'true',
        SOTTO_RELAY_LOG: 'debug',
        AWS_ACCESS_KEY_ID: 'AKIA-VISIBLE-ID',
        AWS_SECRET_ACCESS_KEY: 'very-secret-key',
      },
    });
    try {
      const bytes = randomBytes(5000);
      const blob = await createBlobAs(configured.url, newDevice(), bytes.length);
      expect((await patch(configured.port, blob, 0, bytes)).status).toBe(204);
      expect((await blobRequest(configured.port, 'GET', blob.blobId)).body.equals(bytes)).toBe(
        true,
      );
      for (const secret of ['AKIA-VISIBLE-ID', 'very-secret-key', s3.bucket])
        expect(configured.output()).not.toContain(secret);
    } finally {
      expect(await configured.stop()).toBe(0);
    }
  });
});
