import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobRequest } from '../../../support/blob-http.ts';
import { connectAs, newDevice, relayDataDir } from '../../../support/relay-client.ts';
import { startRelayProcess } from '../../../support/relay-process.ts';
import { usePostgresRelays } from './use-postgres.ts';

// A PostgreSQL node started without --blob-dir has nowhere shared to keep
// blob bytes (docs/relay-operations.md#blobs): it refuses to reserve blobs and
// serves none, rather than writing them to a disk other nodes cannot see.
usePostgresRelays();

describe('a PostgreSQL node without --blob-dir', () => {
  it('answers blob.create RELAY_ERR_FORBIDDEN and blob requests 404', async () => {
    const relay = await startRelayProcess(relayDataDir());
    try {
      const { client } = await connectAs(relay.url, newDevice());
      expect(await client.request({ type: 'blob.create', length: 10 })).toMatchObject({
        type: 'error',
        code: 'RELAY_ERR_FORBIDDEN',
      });
      await client.close();
      const id = randomBytes(16).toString('base64url');
      expect((await blobRequest(relay.port, 'GET', id)).status).toBe(404);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
