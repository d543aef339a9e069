import { randomBytes } from 'node:crypto';
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
} from '../../../support/blob-http.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { newDevice, relayDataDir } from '../../../support/relay-client.ts';
import {
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../../support/relay-process.ts';

// Blobs on a relay of two nodes over one PostgreSQL and one shared blob
// directory (docs/relay-operations.md#blobs): an upload started on one node
// resumes on the other, after that node is killed, and is served by either.

let postgres: TestPostgres;
const nodes: RelayProcess[] = [];
let blobArgs: string[] = [];
const QUOTA = 10_000_000;
beforeAll(async () => {
  postgres = await startTestPostgres({ durable: true });
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  blobArgs = [
    '--blob-dir',
    join(relayDataDir(), 'shared-blobs'),
    '--blob-quota-bytes',
    String(QUOTA),
  ];
  for (let i = 0; i < 2; i++) nodes.push(await startRelayProcess('', { args: blobArgs }));
});
afterAll(async () => {
  for (const node of nodes) await node.stop();
  await postgres.stop();
});

describe('blobs across relay nodes', () => {
  it('resumes on node B an upload node A was killed in the middle of, and both serve it', async () => {
    const [a, b] = nodes;
    const bytes = randomBytes(2_000_000);
    const blob = await createBlobAs(a!.url, newDevice(), bytes.length);
    expect((await patch(a!.port, blob, 0, bytes.subarray(0, 300_000))).status).toBe(204);
    const raw = await rawSocket(a!.port);
    raw.socket.write(patchHead(blob, 300_000, bytes.length - 300_000));
    raw.socket.write(bytes.subarray(300_000, 900_000));
    await waitFor(async () => (await uploadOffset(b!.port, blob)) === 900_000, 'the bytes on disk');
    process.kill(a!.pid, 'SIGKILL');
    expect(await a!.stop()).toBeNull();
    raw.socket.destroy();

    const offset = await uploadOffset(b!.port, blob);
    expect(offset).toBeGreaterThanOrEqual(300_000);
    expect((await patch(b!.port, blob, offset, bytes.subarray(offset))).status).toBe(204);
    nodes[0] = await startRelayProcess('', { args: blobArgs });
    for (const node of nodes) {
      const whole = await blobRequest(node.port, 'GET', blob.blobId);
      expect(whole.body.equals(bytes)).toBe(true);
    }
  });

  it('shares one quota for an account across nodes', async () => {
    const [a, b] = nodes;
    const device = newDevice();
    await createBlobAs(a!.url, device, QUOTA - 10);
    await expect(createBlobAs(b!.url, device, 11)).rejects.toThrow(/RELAY_ERR_BLOB_QUOTA/);
    await createBlobAs(b!.url, device, 10);
  });
});
