import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PART_BYTES } from '../../../../relay/blobs/s3-manifest.ts';
import {
  blobRequest,
  createBlobAs,
  patch,
  patchHead,
  rawSocket,
  uploadOffset,
  waitFor,
} from '../../../support/blob-http.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { newDevice } from '../../../support/relay-client.ts';
import {
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../../support/relay-process.ts';
import { startTestS3, TEST_S3_ENV, type TestS3 } from '../../../support/s3.ts';

// Blobs on a relay of two nodes over one PostgreSQL and one S3-compatible
// bucket, no shared disk (docs/relay-operations.md#blobs): an upload whose
// node is killed mid-part resumes on the other node from the last durable
// part, a tail written by one node is continued by the other, and both serve it.

let postgres: TestPostgres;
let s3: TestS3;
const nodes: RelayProcess[] = [];
const start = (): Promise<RelayProcess> =>
  startRelayProcess('', { args: [...s3.relayArgs], env: TEST_S3_ENV });
beforeAll(async () => {
  postgres = await startTestPostgres({ durable: true });
  s3 = await startTestS3();
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  for (let i = 0; i < 2; i++) nodes.push(await start());
});
afterAll(async () => {
  for (const node of nodes) await node.stop();
  await s3.stop();
  await postgres.stop();
});

describe('S3 blobs across relay nodes', () => {
  it('resumes on node B an upload node A was killed in the middle of, and both serve it', async () => {
    const [a, b] = nodes;
    const bytes = randomBytes(11 * 1024 * 1024);
    const blob = await createBlobAs(a!.url, newDevice(), bytes.length);
    // A tail on node A, continued on node B: the manifest and tail are in the bucket.
    expect((await patch(a!.port, blob, 0, bytes.subarray(0, 300_000))).status).toBe(204);
    expect(await uploadOffset(b!.port, blob)).toBe(300_000);
    expect((await patch(b!.port, blob, 300_000, bytes.subarray(300_000, 600_000))).status).toBe(
      204,
    );
    const raw = await rawSocket(a!.port);
    raw.socket.write(patchHead(blob, 600_000, bytes.length - 600_000));
    raw.socket.write(bytes.subarray(600_000, 7 * 1024 * 1024));
    await waitFor(async () => (await uploadOffset(b!.port, blob)) === PART_BYTES, 'a part');
    process.kill(a!.pid, 'SIGKILL');
    expect(await a!.stop()).toBeNull();
    raw.socket.destroy();

    expect(await uploadOffset(b!.port, blob)).toBe(PART_BYTES);
    expect((await patch(b!.port, blob, PART_BYTES, bytes.subarray(PART_BYTES))).status).toBe(204);
    nodes[0] = await start();
    for (const node of nodes) {
      const whole = await blobRequest(node.port, 'GET', blob.blobId);
      expect(whole.body.equals(bytes)).toBe(true);
      const range = await blobRequest(node.port, 'GET', blob.blobId, {
        headers: { range: `bytes=${PART_BYTES - 1}-${PART_BYTES}` },
      });
      expect(range.body.equals(bytes.subarray(PART_BYTES - 1, PART_BYTES + 1))).toBe(true);
    }
  });

  it('answers 409 with the durable offset on node B while node A holds a stale one', async () => {
    const [a, b] = nodes;
    const bytes = randomBytes(2000);
    const blob = await createBlobAs(a!.url, newDevice(), bytes.length);
    expect((await patch(a!.port, blob, 0, bytes.subarray(0, 1000))).status).toBe(204);
    // A replayed first PATCH on the other node: refused with where to resume, nothing rewritten.
    const replay = await patch(b!.port, blob, 0, bytes.subarray(0, 1000));
    expect(replay.status).toBe(409);
    expect(replay.headers['upload-offset']).toBe('1000');
    expect((await patch(b!.port, blob, 1000, bytes.subarray(1000))).status).toBe(204);
    expect((await blobRequest(a!.port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
  });
});
