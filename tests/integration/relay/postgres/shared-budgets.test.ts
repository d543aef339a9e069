import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../../../shared/relay/protocol.ts';
import { RelayBudgets } from '../../../../relay/budgets.ts';
import { DEFAULT_BUDGETS } from '../../../../relay/options.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import {
  connectAnonymous,
  connectAs,
  newDevice,
  newToken,
  type RelayTestClient,
  registeredDevice,
  relayDataDir,
} from '../../../support/relay-client.ts';
import {
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../../support/relay-process.ts';
import { publishedKeysFor, submission } from '../fixtures.ts';
import { group, multiFrame, outcomes, queued, tokensOf } from '../multi-fixtures.ts';

// The target budgets (per destination mailbox, per fetched device) are shared
// by every node over one PostgreSQL (docs/relay-operations.md#shared-budgets):
// a sender spreading its requests over two nodes meets one limit, not two.
// Refill rates are near zero, so every accepted request is counted once.

const MAILBOX_BURST = 200;
const FETCH_BURST = 12;

let postgres: TestPostgres;
let nodes: RelayProcess[] = [];
beforeAll(async () => {
  postgres = await startTestPostgres();
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  const args = [
    '--budget',
    `destination-messages=${MAILBOX_BURST}/0.001`,
    '--budget',
    `device-fetches=${FETCH_BURST}/0.001`,
    '--budget',
    'connection-refusals=100000/100000',
    '--budget',
    'connection-sends=100000/100000',
  ];
  nodes = await Promise.all([0, 1].map(() => startRelayProcess(relayDataDir(), { args })));
});
afterAll(async () => {
  for (const node of nodes) await node.stop();
  await postgres.stop();
});

/** One anonymous connection per node. */
async function onEveryNode(): Promise<RelayTestClient[]> {
  return await Promise.all(nodes.map((node) => connectAnonymous(node.url)));
}

type Tally = { accepted: number; refused: number[]; retryHints: number[] };

/** Sends `batches` batches of 25 to `to`, alternating nodes; counts per node what was accepted or over budget. */
async function spread(
  senders: readonly RelayTestClient[],
  to: Awaited<ReturnType<typeof registeredDevice>>,
  token: string,
  batches: number,
): Promise<Tally> {
  const tally: Tally = { accepted: 0, refused: senders.map(() => 0), retryHints: [] };
  for (let batch = 0; batch < batches; batch++) {
    const node = batch % senders.length;
    const envelopes = Array.from({ length: 25 }, () =>
      submission(to.device, token, randomBytes(64)),
    );
    const answer = await senders[node]!.request({ type: 'send.batch', envelopes });
    if (answer.type !== 'sent') throw new Error(`unexpected answer ${answer.type}`);
    for (const result of answer.results) {
      if ('envelopeId' in result) tally.accepted += 1;
      else if (result.error === 'RELAY_ERR_OVER_BUDGET') tally.refused[node]! += 1;
      else throw new Error(`unexpected refusal ${result.error}`);
    }
  }
  return tally;
}

describe('budgets shared by two nodes over one PostgreSQL', () => {
  it('a contact turned hostile spreading sends over both nodes fills one mailbox budget, not two', async () => {
    const bob = await registeredDevice(nodes[0]!.url);
    await bob.client.close();
    const senders = await onEveryNode();
    // Three times the burst, half on each node: per-node buckets would accept 2 × burst.
    const tally = await spread(senders, bob, bob.token, (3 * MAILBOX_BURST) / 25);
    expect(tally.accepted).toBe(MAILBOX_BURST);
    // Both nodes refused: neither kept a private budget of its own.
    expect(tally.refused[0]).toBeGreaterThan(0);
    expect(tally.refused[1]).toBeGreaterThan(0);
    // Nothing accepted was lost: the mailbox holds exactly what was accepted.
    const { client, ready } = await connectAs(nodes[1]!.url, bob.device);
    expect(ready.queued).toBe(MAILBOX_BURST);
    await Promise.all([...senders.map((s) => s.close()), client.close()]);
  });

  it('the refusal carries a retry hint from the shared bucket, on either node', async () => {
    const bob = await registeredDevice(nodes[1]!.url);
    const senders = await onEveryNode();
    // Past the burst on both nodes, so neither holds a leased token any more.
    await spread(senders, bob, bob.token, (2 * MAILBOX_BURST) / 25);
    for (const sender of senders) {
      const answer = await sender.request({
        type: 'send',
        envelope: submission(bob.device, bob.token, randomBytes(64)),
      });
      expect(answer).toMatchObject({ type: 'error', code: 'RELAY_ERR_OVER_BUDGET' });
      // 1 token at 0.001/s: about 1,000 s, never 0 (which would invite a tight retry loop).
      expect((answer as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(100_000);
    }
    await Promise.all([...senders.map((s) => s.close()), bob.client.close()]);
  });

  it("strangers without the token on both nodes spend none of the mailbox's shared budget", async () => {
    const bob = await registeredDevice(nodes[0]!.url);
    const senders = await onEveryNode();
    for (let round = 0; round < 4; round++) {
      for (const sender of senders) {
        const answer = await sender.request({
          type: 'send.batch',
          envelopes: Array.from({ length: 50 }, () =>
            submission(bob.device, newToken(), randomBytes(64)),
          ),
        });
        expect(answer.type === 'sent' && answer.results.every((r) => 'error' in r)).toBe(true);
      }
    }
    // Every token the contacts need is still there, on both nodes together.
    expect((await spread(senders, bob, bob.token, (2 * MAILBOX_BURST) / 25)).accepted).toBe(
      MAILBOX_BURST,
    );
    await Promise.all([...senders.map((s) => s.close()), bob.client.close()]);
  });

  it("one mailbox's exhausted budget does not touch another's", async () => {
    const [bob, carol] = await Promise.all(nodes.map((node) => registeredDevice(node.url)));
    const senders = await onEveryNode();
    await spread(senders, bob!, bob!.token, (2 * MAILBOX_BURST) / 25);
    expect((await spread(senders, carol!, carol!.token, 2)).accepted).toBe(50);
    await Promise.all([
      ...senders.map((s) => s.close()),
      bob!.client.close(),
      carol!.client.close(),
    ]);
  });

  it("multi-recipient sends spread over both nodes stop at each recipient's one budget, all stored copies kept", async () => {
    const { members, body } = await group(nodes[0]!.url);
    await Promise.all(members.map((m) => m.client.close()));
    const senders = await onEveryNode();
    const stored = members.map(() => 0);
    for (let i = 0; i < (3 * MAILBOX_BURST) / 2; i++) {
      const answer = await senders[i % 2]!.request(multiFrame(body, tokensOf(members)));
      if (answer.type === 'error') {
        expect(answer.code).toBe('RELAY_ERR_OVER_BUDGET');
        continue;
      }
      outcomes(answer).forEach((outcome, m) => {
        if (outcome === 'stored') stored[m]! += 1;
        else expect(outcome).toBe('RELAY_ERR_OVER_BUDGET');
      });
    }
    expect(stored).toEqual(members.map(() => MAILBOX_BURST));
    for (const m of members) expect(await queued(nodes[1]!.url, m)).toBe(MAILBOX_BURST);
    await Promise.all(senders.map((s) => s.close()));
  });

  it('bundle fetches spread over both nodes stop at one per-device budget', async () => {
    const bob = await registeredDevice(nodes[0]!.url);
    await bob.client.request({
      type: 'keys.publish',
      keys: publishedKeysFor(bob.device, RELAY_LIMITS.maxOneTimeKeysPerPublish),
    });
    const fetchers = await onEveryNode();
    let bundles = 0;
    let refused = 0;
    for (let i = 0; i < 3 * FETCH_BURST; i++) {
      const answer = await fetchers[i % 2]!.request({
        type: 'keys.fetch',
        accountId: bob.device.accountId,
        deviceId: bob.device.deviceId,
        token: bob.token,
      });
      if (answer.type === 'bundle') bundles += 1;
      else if (answer.type === 'error' && answer.code === 'RELAY_ERR_OVER_BUDGET') refused += 1;
    }
    expect(bundles).toBe(FETCH_BURST);
    expect(refused).toBe(2 * FETCH_BURST);
    await Promise.all([...fetchers.map((f) => f.close()), bob.client.close()]);
  });
});

describe('leases of a shared bucket under concurrency (two storages, in process)', () => {
  it('concurrent deliveries through two nodes never accept more than the burst', async () => {
    const database = await postgres.createDatabase();
    const [one, two] = await Promise.all([0, 1].map(() => PostgresRelayStorage.open(database)));
    const specs = { ...DEFAULT_BUDGETS, destinationMessages: { burst: 50, perSecond: 0 } };
    const budgets = [one!, two!].map((storage) => new RelayBudgets(specs, Date.now, storage));
    const mailbox = { accountId: newDevice().accountId, deviceId: 1 };
    // 300 requests at once, spread over both nodes: the leases race on one row.
    const verdicts = await Promise.all(
      Array.from({ length: 300 }, (_, i) => budgets[i % 2]!.deliver([mailbox], 10)),
    );
    expect(verdicts.filter((v) => v.ok)).toHaveLength(50);
    // A request for two mailboxes, one of them exhausted, takes nothing from the other.
    const other = { accountId: newDevice().accountId, deviceId: 1 };
    expect((await budgets[0]!.deliver([other, mailbox], 10)).ok).toBe(false);
    const rest = await Promise.all(
      Array.from({ length: 60 }, (_, i) => budgets[i % 2]!.deliver([other], 10)),
    );
    expect(rest.filter((v) => v.ok)).toHaveLength(50);
    await Promise.all([one!.close(), two!.close()]);
  });

  it('the sweep forgets refilled buckets and keeps the others', async () => {
    const database = await postgres.createDatabase();
    const storage = await PostgresRelayStorage.open(database);
    const admin = new pg.Client({ connectionString: database });
    await admin.connect();
    try {
      // Refills in about 2 ms, and one that never refills (rate 0).
      await storage.leaseBudget('quick', { burst: 2, perSecond: 1_000 }, 1, 1);
      await storage.leaseBudget('stuck', { burst: 2, perSecond: 0 }, 1, 1);
      const keys = async () =>
        (await admin.query<{ key: string }>('SELECT key FROM relay_budget ORDER BY key')).rows.map(
          (r) => r.key,
        );
      expect(await keys()).toEqual(['quick', 'stuck']);
      const deadline = Date.now() + 60_000;
      while ((await keys()).includes('quick') && Date.now() < deadline)
        await storage.expireBefore(0, 10);
      expect(await keys()).toEqual(['stuck']);
    } finally {
      await admin.end();
      await storage.close();
    }
  });

  it('the database failing mid-request spends nothing of the budgets already reserved for it', async () => {
    // Durable: a crash of a server without synchronous commit could lose the schema itself.
    const own = await startTestPostgres({ durable: true });
    const storage = await PostgresRelayStorage.open(await own.createDatabase());
    try {
      const specs = {
        ...DEFAULT_BUDGETS,
        destinationMessages: { burst: 2, perSecond: 0 },
        destinationBytes: { burst: 1_000, perSecond: 0 },
      };
      const budgets = new RelayBudgets(specs, Date.now, storage);
      const mailbox = { accountId: newDevice().accountId, deviceId: 1 };
      // Leases 1 message and a 62-byte chunk of bytes, spends 10 of them.
      expect((await budgets.deliver([mailbox], 10)).ok).toBe(true);
      await own.crash();
      // The message token comes from the database, then the bytes lease fails: the request fails whole.
      await expect(budgets.deliver([mailbox], 60)).rejects.toThrow();
      await own.restart();
      // The second message token was given back to this node, so one more envelope fits, then none.
      expect((await budgets.deliver([mailbox], 10)).ok).toBe(true);
      expect((await budgets.deliver([mailbox], 10)).ok).toBe(false);
    } finally {
      await storage.close();
      await own.stop();
    }
  });
});
