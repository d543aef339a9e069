import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { newDevice, registeredDevice } from '../../../support/relay-client.ts';
import { useCluster } from './cluster-fixture.ts';
import { deduplicated, receiveStream, sendStream } from '../cluster.ts';

// Several relay nodes over one PostgreSQL database (docs/relay-operations.md):
// a sender on one node, its recipient on another; nodes killed with SIGKILL,
// the LISTEN connection cut. Durable PostgreSQL (fsync on) for the whole file.

const STREAM = 2_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const cluster = useCluster(3);

describe('relay nodes over one PostgreSQL', () => {
  it('all nodes share one relay id, made once with the data', () => {
    expect(new Set(cluster.nodes.map((n) => n.relayId)).size).toBe(1);
  });

  it('2,000 messages from a sender on node A reach a recipient on node B once each, in order', async () => {
    const [a, b] = cluster.nodes;
    const bob = await registeredDevice(b!.url);
    await bob.client.close();
    const receiving = receiveStream(() => [b!.url], bob.device, STREAM);
    await sendStream(() => [a!.url], bob.device, bob.token, 0, STREAM);
    const received = await receiving;
    // No duplicates at all: nothing died, so nothing was redelivered.
    expect(received.positions).toEqual(range(STREAM));
    // Woken across nodes: one connection got it all, never stalled until a frame timeout.
    expect(received.connections).toBe(1);
  });

  it('three nodes: one sender on A, recipients on B and C, each gets its whole stream in order', async () => {
    const [a, b, c] = cluster.nodes;
    const bob = await registeredDevice(b!.url);
    const carol = await registeredDevice(c!.url);
    await Promise.all([bob.client.close(), carol.client.close()]);
    const toBob = receiveStream(() => [b!.url], bob.device, 500);
    const toCarol = receiveStream(() => [c!.url], carol.device, 500);
    await Promise.all([
      sendStream(() => [a!.url], bob.device, bob.token, 0, 500),
      sendStream(() => [a!.url], carol.device, carol.token, 0, 500),
    ]);
    for (const received of [await toBob, await toCarol]) {
      expect(received.positions).toEqual(range(500));
      expect(received.connections).toBe(1);
    }
  });

  it("kill -9 of the recipient's node mid-stream: it reconnects to another node and loses nothing", async () => {
    const [a, b, c] = cluster.nodes;
    const bob = await registeredDevice(b!.url);
    await bob.client.close();
    let killed = false;
    // B first, then C once B is gone: the client's own failover order.
    const urls = () => (killed ? [c!.url] : [b!.url]);
    const receiving = receiveStream(urls, bob.device, STREAM, undefined, (seen) => {
      if (!killed && seen.ids.length >= 500) {
        killed = true;
        process.kill(b!.pid, 'SIGKILL');
      }
    });
    await sendStream(() => [a!.url], bob.device, bob.token, 0, STREAM);
    const received = await receiving;
    expect(killed).toBe(true);
    // Redelivery of what was pushed but not acked is allowed; after the client's dedupe: all, once, in order.
    expect(deduplicated(received)).toEqual(range(STREAM));
    cluster.nodes = cluster.nodes.filter((n) => n !== b);
  });

  it('the LISTEN connection cut by the database: the node reconnects, rescans and delivers', async () => {
    const [a, c] = cluster.nodes;
    const bob = await registeredDevice(c!.url);
    await bob.client.close();
    const admin = new pg.Client({ connectionString: cluster.database });
    await admin.connect();
    const cut = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    await admin.end();
    expect(cut.rowCount).toBeGreaterThanOrEqual(2);
    const receiving = receiveStream(() => [c!.url], bob.device, 100);
    await sendStream(() => [a!.url], bob.device, bob.token, 0, 100);
    const received = await receiving;
    expect(received.positions).toEqual(range(100));
    expect(received.connections).toBe(1);
  });

  it('a device that was offline gets what other nodes stored meanwhile when it logs in anywhere', async () => {
    const [a, c] = cluster.nodes;
    const device = newDevice();
    const bob = await registeredDevice(c!.url, device);
    await bob.client.close();
    await sendStream(() => [a!.url], device, bob.token, 0, 300);
    expect((await receiveStream(() => [a!.url], device, 300)).positions).toEqual(range(300));
  });

  it('PostgreSQL crashes (-m immediate) and restarts mid-stream: nodes recover, nothing lost or duplicated', async () => {
    const [a, c] = cluster.nodes;
    const bob = await registeredDevice(c!.url);
    await bob.client.close();
    let crashed = false;
    const receiving = receiveStream(
      () => [c!.url, a!.url],
      bob.device,
      STREAM,
      undefined,
      async (seen) => {
        if (!crashed && seen.ids.length >= 600) {
          crashed = true;
          await cluster.postgres.crash();
          await cluster.postgres.restart();
        }
      },
    );
    await sendStream(() => [a!.url, c!.url], bob.device, bob.token, 0, STREAM);
    const received = await receiving;
    expect(crashed).toBe(true);
    expect(deduplicated(received)).toEqual(range(STREAM));
    // Both nodes are still serving.
    for (const node of [a!, c!]) {
      const probe = await registeredDevice(node.url);
      await probe.client.close();
    }
  });
});
