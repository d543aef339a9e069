import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
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
import { startRelayProcess } from '../../support/relay-process.ts';

// An upload survives kill -9 of the relay (docs/relay-protocol.md#blobs): the
// file's size is the resume point, a prefix is never lost once a PATCH or HEAD
// reported it, and the upload is never restarted from zero. SQLite only: a
// PostgreSQL re-run would get a fresh database at each start.

describe('blob upload across relay crashes', () => {
  it('resumes from the bytes on disk after kill -9, three times, and ends byte-identical', async () => {
    const dataDir = relayDataDir();
    let relay = await startRelayProcess(dataDir);
    const bytes = randomBytes(3_000_000);
    const blob = await createBlobAs(relay.url, newDevice(), bytes.length);
    expect((await patch(relay.port, blob, 0, bytes.subarray(0, 500_000))).status).toBe(204);
    let confirmed = 500_000;
    for (let crash = 0; crash < 3; crash++) {
      const raw = await rawSocket(relay.port);
      raw.socket.write(patchHead(blob, confirmed, bytes.length - confirmed));
      const sent = confirmed + 400_000;
      raw.socket.write(bytes.subarray(confirmed, sent));
      await waitFor(async () => (await uploadOffset(relay.port, blob)) === sent, 'the bytes sent');
      process.kill(relay.pid, 'SIGKILL');
      expect(await relay.stop()).toBeNull();
      raw.socket.destroy();
      relay = await startRelayProcess(dataDir);
      const offset = await uploadOffset(relay.port, blob);
      // What a PATCH answered is durable; a tail past the last fsync may be there or not.
      expect(offset).toBeGreaterThanOrEqual(confirmed);
      expect(offset).toBeLessThanOrEqual(sent);
      confirmed = offset;
    }
    expect((await patch(relay.port, blob, confirmed, bytes.subarray(confirmed))).status).toBe(204);
    const whole = await blobRequest(relay.port, 'GET', blob.blobId);
    expect(whole.body.equals(bytes)).toBe(true);
    expect(await relay.stop()).toBe(0);
  });

  it('drains on SIGTERM: a PATCH in progress is cut cleanly, its prefix kept, the relay exits 0', async () => {
    const dataDir = relayDataDir();
    const relay = await startRelayProcess(dataDir);
    const bytes = randomBytes(1_000_000);
    const blob = await createBlobAs(relay.url, newDevice(), bytes.length);
    const raw = await rawSocket(relay.port);
    raw.socket.write(patchHead(blob, 0, bytes.length));
    raw.socket.write(bytes.subarray(0, 600_000));
    await waitFor(async () => (await uploadOffset(relay.port, blob)) === 600_000, 'the bytes sent');
    expect(await relay.stop()).toBe(0);
    await raw.closed;
    const again = await startRelayProcess(dataDir);
    expect(await uploadOffset(again.port, blob)).toBe(600_000);
    expect((await patch(again.port, blob, 600_000, bytes.subarray(600_000))).status).toBe(204);
    expect((await blobRequest(again.port, 'GET', blob.blobId)).body.equals(bytes)).toBe(true);
    expect(await again.stop()).toBe(0);
  });
});
