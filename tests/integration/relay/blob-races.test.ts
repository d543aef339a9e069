import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  blobRequest,
  createBlobAs,
  patch,
  type BlobAnswer,
  type CreatedBlob,
} from '../../support/blob-http.ts';
import { connectAs, newDevice, relayDataDir } from '../../support/relay-client.ts';
import { startRelayProcess, type RelayProcess } from '../../support/relay-process.ts';

// Blob abuse that needs timing or a second party (docs/relay-protocol.md#blobs):
// an uploader racing its own quota from several connections, and a stranger
// who learned the id of an upload still under way. Re-run on PostgreSQL by
// postgres/blob-races.test.ts.

const CAP = 100_000;
const QUOTA = 250_000;
let relay: RelayProcess | undefined;

beforeAll(async () => {
  relay = await startRelayProcess(relayDataDir(), {
    args: [
      '--blob-dir',
      join(relayDataDir(), 'blobs'),
      '--max-blob-bytes',
      String(CAP),
      '--blob-quota-bytes',
      String(QUOTA),
    ],
  });
});
afterAll(async () => {
  expect(await relay?.stop()).toBe(0);
});
const started = (): RelayProcess => {
  if (relay === undefined) throw new Error('the relay starts in beforeAll');
  return relay;
};

it('reservations sent at once from three connections of one account never pass its quota', async () => {
  const device = newDevice();
  const clients = await Promise.all([1, 2, 3].map(() => connectAs(started().url, device)));
  try {
    // Six reservations of the cap, two per connection, all in flight together: two fit.
    const answers = await Promise.all(
      clients.flatMap(({ client }) =>
        [1, 2].map(() => client.request({ type: 'blob.create', length: CAP })),
      ),
    );
    expect(answers.filter((a) => a.type === 'blob.created')).toHaveLength(2);
    const refused = answers.flatMap((a) => (a.type === 'error' ? [a.code] : []));
    expect(refused).toEqual([
      'RELAY_ERR_BLOB_QUOTA',
      'RELAY_ERR_BLOB_QUOTA',
      'RELAY_ERR_BLOB_QUOTA',
      'RELAY_ERR_BLOB_QUOTA',
    ]);
  } finally {
    await Promise.all(clients.map(({ client }) => client.close()));
  }
});

/** Status, headers (without the date) and body: what a GET tells its sender. */
function told({ status, headers, body }: BlobAnswer) {
  const rest = Object.entries(headers).filter(([name]) => name !== 'date');
  return { status, headers: Object.fromEntries(rest), body: body.toString('hex') };
}

it('a GET of an upload under way, whole or ranged, tells a stranger exactly what an unknown id does', async () => {
  const { port } = started();
  const blob: CreatedBlob = await createBlobAs(started().url, newDevice(), 5000);
  expect((await patch(port, blob, 0, randomBytes(3000))).status).toBe(204);
  const unknown = randomBytes(16).toString('base64url');
  for (const range of [undefined, 'bytes=0-', 'bytes=0-99', 'bytes=2999-', 'bytes=4999-']) {
    const headers: Record<string, string> = range === undefined ? {} : { range };
    const underWay = told(await blobRequest(port, 'GET', blob.blobId, { headers }));
    expect(underWay).toEqual(told(await blobRequest(port, 'GET', unknown, { headers })));
    expect(underWay.status).toBe(404);
  }
  // Control: once the last byte is in, the same GET serves it.
  expect((await patch(port, blob, 3000, randomBytes(2000))).status).toBe(204);
  expect((await blobRequest(port, 'GET', blob.blobId)).body).toHaveLength(5000);
});
