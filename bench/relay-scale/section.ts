import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { ACCOUNT_ID_DOMAIN, accountIdFromDigest } from '../../shared/protocol/account-id.ts';
import { publishedKeysFor } from '../../tests/integration/relay/fixtures.ts';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import { GATHER_MS } from '../../relay/postgres/gathering.ts';
import { startTestPostgres } from '../../tests/support/postgres.ts';
import {
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../tests/support/relay-process.ts';
import type { Metric } from '../support/report.ts';
import { tempDir } from '../support/temp.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { THROUGHPUT_ARGS } from '../sync/relay-child.ts';
import { closedLoopFigures } from './closed-loop.ts';
import { heldOnOneNode } from './connections.ts';
import { connectionFigures, scaleFigures } from './figures.ts';
import { type ScalePlan, scaleOut } from './scale-out.ts';

const SECTION = 'relay-scale';

/** Shape of the relay scale-out benchmark (BENCH_ONLY=relay-scale). */
export const RELAY_SCALE = {
  recipients: 20,
  /** Sends each sender keeps in flight. */
  inFlight: 4,
  messages: 4_000,
  bodyBytes: 256,
  /** 16 fetchers against one device's stock, for the claim-correctness figure. */
  claimers: 16,
  /** Authenticated connections one node holds (BENCH_SCALE_CONNECTIONS; 0 skips that part). */
  connections: Number(process.env['BENCH_SCALE_CONNECTIONS'] ?? 10_000),
  /** Timed deliveries among them (BENCH_SCALE_TRIALS): enough to span a 30 s heartbeat round. */
  trials: Number(process.env['BENCH_SCALE_TRIALS'] ?? 1_500),
} as const;

/** The scale-out plan (issue 14 §4, design note A6); BENCH_SCALE_STEP_SECONDS shortens it, BENCH_SCALE_NODES=1,4 picks the N. */
const SCALE_PLAN: ScalePlan = {
  nodes: (process.env['BENCH_SCALE_NODES'] ?? '1,2,4')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0),
  nodeShare: 0.2,
  recipients: 200,
  // Anonymous sender connections per node (BENCH_SCALE_SENDERS). Each connection handles
  // its frames one after another, so a node's store batches hold at most one store per
  // sender. A node in service holds thousands of devices (design note A6: 2,000 sockets),
  // so 25 per node (100 senders and 200 recipients at N = 4) is the default; 2 is the
  // harsh case earlier runs used, which caps a node's batches and so its rate.
  sendersPerNode: Number(process.env['BENCH_SCALE_SENDERS'] ?? 25),
  bodyBytes: 256,
  // Steps of √2: doubling is too coarse to place a ceiling of a few dozen per second.
  // BENCH_SCALE_FROM skips the steps below a rate (a run whose low steps are known).
  rates: [
    25, 35, 50, 70, 100, 140, 200, 280, 400, 560, 800, 1_100, 1_600, 2_200, 3_200, 4_500, 6_400,
  ].filter((rate) => rate >= Number(process.env['BENCH_SCALE_FROM'] ?? 0)),
  warmupSeconds: Number(process.env['BENCH_SCALE_WARMUP_SECONDS'] ?? 10),
  stepSeconds: Number(process.env['BENCH_SCALE_STEP_SECONDS'] ?? 60),
  p99LimitMs: 200,
  // Halvings of the gap around the ceiling (BENCH_SCALE_REFINE): the grid's √2 steps
  // alone would put N = 4 at 1,100 or 1,600 where 3.2 × 400 is 1,280.
  refineSteps: Number(process.env['BENCH_SCALE_REFINE'] ?? 2),
  // The nodes' --store-gather-ms (BENCH_SCALE_GATHER_MS; 0 turns gathering off, for an A/B).
  gatherMs: Number(process.env['BENCH_SCALE_GATHER_MS'] ?? GATHER_MS),
};

/**
 * Delivered envelopes/s: one anonymous sender per recipient on the first node,
 * recipients (acking every push) on the last node; from the first send to the
 * last push of a distinct envelope.
 */
async function deliveredPerSecond(nodes: readonly RelayProcess[]): Promise<number> {
  const first = nodes[0]!.url;
  const last = nodes[nodes.length - 1]!.url;
  const recipients = await Promise.all(
    Array.from({ length: RELAY_SCALE.recipients }, () => RawRelayClient.connect(last)),
  );
  const senders = await Promise.all(
    recipients.map(() => RawRelayClient.connect(first, 'anonymous')),
  );
  const seen = new Set<string>();
  const perRecipient = RELAY_SCALE.messages / RELAY_SCALE.recipients;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  for (const recipient of recipients)
    recipient.onEnvelope = (envelope) => {
      seen.add(envelope.id);
      if (seen.size === RELAY_SCALE.messages) finished();
    };
  const body = toBase64(randomBytes(RELAY_SCALE.bodyBytes));
  const started = performance.now();
  await Promise.all(
    senders.map(async (sender, i) => {
      const to = recipients[i]!;
      let next = 0;
      const lane = async () => {
        while (next < perRecipient) {
          next += 1;
          await sender.send(to.accountId, to.token, body);
        }
      };
      await Promise.all(Array.from({ length: RELAY_SCALE.inFlight }, lane));
    }),
  );
  await done;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([...recipients, ...senders].map((c) => c.close()));
  return RELAY_SCALE.messages / seconds;
}

/** Starts `count` nodes on the store the current useRelayStore hook names. */
async function nodesOn(count: number): Promise<RelayProcess[]> {
  return await Promise.all(
    Array.from({ length: count }, () =>
      startRelayProcess(tempDir(), { env: { SOTTO_RELAY_LOG: 'warn' }, args: THROUGHPUT_ARGS }),
    ),
  );
}

async function measure(count: number): Promise<number> {
  const nodes = await nodesOn(count);
  try {
    return await deliveredPerSecond(nodes);
  } finally {
    for (const node of nodes) await node.stop();
  }
}

/** 16 concurrent claimers against 2,000 one-time keys of one device: distinct keys handed out. */
async function claimFigures(
  url: string,
): Promise<{ claims: number; distinct: number; perSecond: number }> {
  const { PostgresRelayStorage } = await import('../../relay/postgres/storage.ts');
  const storage = await PostgresRelayStorage.open(url);
  try {
    const identity = IdentityKeyPair.generate();
    const accountId = accountIdFromDigest(
      createHash('sha256')
        .update(ACCOUNT_ID_DOMAIN)
        .update(identity.publicKey.serialize())
        .digest(),
    );
    const device = { identity, accountId, deviceId: 1 };
    await storage.publishKeys(publishedKeysFor(device, 2_000), 0, 100_000);
    const taken: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: RELAY_SCALE.claimers }, async () => {
        for (;;) {
          const bundle = await storage.takeBundle(accountId, 1, 0);
          if (!bundle?.bundle.preKey) return;
          taken.push(bundle.bundle.preKey.id);
        }
      }),
    );
    const perSecond = taken.length / ((performance.now() - started) / 1000);
    return { claims: taken.length, distinct: new Set(taken).size, perSecond };
  } finally {
    await storage.close();
  }
}

/** Only the held-connections part (BENCH_ONLY=relay-connections): minutes instead of the whole section. */
export async function relayConnectionsSection(): Promise<Metric[]> {
  const postgres = await startTestPostgres({ durable: true });
  try {
    return connectionFigures(
      await heldOnOneNode(postgres, RELAY_SCALE.connections, RELAY_SCALE.trials),
    );
  } finally {
    await postgres.stop();
  }
}

/** Delivered envelopes/s through one node on SQLite, one and two nodes on PostgreSQL (fsync on), same run. */
export async function relayScaleSection(): Promise<Metric[]> {
  console.log(
    `\n[relay-scale] ${RELAY_SCALE.messages} envelopes of ${RELAY_SCALE.bodyBytes} bytes, ${RELAY_SCALE.recipients} recipients on the last node, one sender each on the first (${RELAY_SCALE.inFlight} in flight); PostgreSQL 15 local, fsync and synchronous_commit on`,
  );
  const sqlite = await measure(1);
  const postgres = await startTestPostgres({ durable: true });
  try {
    useRelayStore(async () => ['--database', await postgres.createDatabase()]);
    const onePg = await measure(1);
    const shared = await postgres.createDatabase();
    useRelayStore(() => Promise.resolve(['--database', shared]));
    const twoPg = await measure(2);
    const claims = await claimFigures(await postgres.createDatabase());
    console.log('[relay-scale] closed loops on one node, store gathering off and on');
    const loops = await closedLoopFigures(postgres, SECTION, GATHER_MS);
    console.log(`[relay-scale] one node holding ${RELAY_SCALE.connections} connections`);
    const held =
      RELAY_SCALE.connections > 0
        ? await heldOnOneNode(postgres, RELAY_SCALE.connections, RELAY_SCALE.trials)
        : undefined;
    console.log(
      `[relay-scale] scale-out N = ${SCALE_PLAN.nodes.join(', ')}, ${SCALE_PLAN.stepSeconds} s steps`,
    );
    const runs = await scaleOut(postgres, SCALE_PLAN);
    const baseline = { name: 'one node, embedded SQLite', value: sqlite };
    const onePgBaseline = { name: 'one node, PostgreSQL', value: onePg };
    return [
      {
        section: SECTION,
        name: 'one node, embedded SQLite (baseline)',
        value: sqlite,
        unit: 'msg/s',
      },
      { section: SECTION, name: 'one node, PostgreSQL', value: onePg, unit: 'msg/s', baseline },
      {
        section: SECTION,
        name: 'two nodes, PostgreSQL (sender on A, recipients on B)',
        value: twoPg,
        unit: 'msg/s',
        baseline: onePgBaseline,
        note: 'every envelope crosses nodes (NOTIFY wakeup); nodes, PostgreSQL and the load generator share the same 2 cores, so this shows the cross-node path, not scale-out',
      },
      {
        section: SECTION,
        name: `prekey claims, ${RELAY_SCALE.claimers} concurrent fetchers, one device`,
        value: claims.perSecond,
        unit: 'claims/s',
        note: `${claims.claims} claims, ${claims.distinct} distinct (a key handed out twice would make these differ)`,
      },
      ...loops,
      ...(held === undefined ? [] : connectionFigures(held)),
      ...scaleFigures(runs, SCALE_PLAN),
    ];
  } finally {
    await postgres.stop();
  }
}
