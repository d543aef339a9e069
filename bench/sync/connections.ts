import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { RawRelayClient } from './raw-client.ts';
import { openFileLimit, startRelayChild, THROUGHPUT_ARGS } from './relay-child.ts';
import { tempDir } from '../support/temp.ts';

/** Shape of benchmark 3. */
export interface ConnectionsPlan {
  readonly connections: number;
  /** Handshakes in flight at once while opening. */
  readonly concurrency: number;
  readonly trials: number;
  /** Untimed trials before each latency measurement. */
  readonly warmup: number;
  readonly bodyBytes: number;
}

/** What benchmark 3 measured. */
export interface ConnectionsResult {
  /** Connections that reached `ready` (and how many were attempted). */
  readonly ready: number;
  readonly attempted: number;
  /** Of those, still open after the latency measurement. */
  readonly stillOpen: number;
  /** Failure reasons with their counts. */
  readonly failures: ReadonlyMap<string, number>;
  readonly openMs: number;
  /** Single-message latencies (ms) with 2 connections, then with all of them. */
  readonly baseline: readonly number[];
  readonly loaded: readonly number[];
  /** Soft open-file limits of this process and of the relay child. */
  readonly fdLimits: { readonly bench: number | undefined; readonly relay: number | undefined };
}

const randomIndex = (n: number) => Math.floor(Math.random() * n);

/** Opens `count` connections, `concurrency` handshakes at a time. */
export async function openClients(url: string, count: number, concurrency: number) {
  const clients: RawRelayClient[] = [];
  const failures = new Map<string, number>();
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      try {
        clients.push(await RawRelayClient.connect(url));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { clients, failures };
}

/**
 * `warmup + trials` single-message deliveries, one at a time: the anonymous
 * `sender` sends a random body to a random account connection with its token;
 * the time is from the `send` frame to the receiver's `envelopes` push.
 * Returns the timed latencies (ms).
 */
export async function deliveryLatencies(
  clients: readonly RawRelayClient[],
  sender: RawRelayClient,
  plan: ConnectionsPlan,
): Promise<number[]> {
  if (clients.length < 2) throw new Error('need two connected clients');
  const latencies: number[] = [];
  for (let i = 0; i < plan.warmup + plan.trials; i++) {
    const receiver = clients[randomIndex(clients.length)]!;
    const body = randomBytes(plan.bodyBytes).toString('base64');
    const arrived = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no push within 10 s')), 10_000);
      receiver.onEnvelope = (envelope, at) => {
        if (envelope.body !== body) return;
        clearTimeout(timer);
        resolve(at);
      };
    });
    const start = performance.now();
    const [at] = await Promise.all([
      arrived,
      sender.send(receiver.accountId, receiver.token, body),
    ]);
    receiver.onEnvelope = undefined;
    if (i >= plan.warmup) latencies.push(at - start);
  }
  return latencies;
}

async function closeAll(clients: readonly RawRelayClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
}

/**
 * Benchmark 3 against its own relay child: delivery latency with 2
 * connections (baseline), then `plan.connections` logged-in connections
 * (each with a registered token) and the same latency among them.
 */
export async function heldConnections(plan: ConnectionsPlan): Promise<ConnectionsResult> {
  const relay = await startRelayChild(tempDir('sotto-bench-relay-'), THROUGHPUT_ARGS);
  const fdLimits = { bench: openFileLimit(), relay: openFileLimit(relay.pid) };
  let clients: RawRelayClient[] = [];
  const sender = await RawRelayClient.connect(relay.url, 'anonymous');
  try {
    const pair = await openClients(relay.url, 2, 2);
    clients = pair.clients;
    const baseline = await deliveryLatencies(clients, sender, plan);
    await closeAll(clients);

    const openStart = performance.now();
    const opened = await openClients(relay.url, plan.connections, plan.concurrency);
    const openMs = performance.now() - openStart;
    clients = opened.clients;
    const loaded = await deliveryLatencies(clients, sender, plan);
    return {
      ready: clients.length,
      attempted: plan.connections,
      stillOpen: clients.filter((c) => c.open).length,
      failures: opened.failures,
      openMs,
      baseline,
      loaded,
      fdLimits,
    };
  } finally {
    await closeAll([...clients, sender]);
    await relay.stop();
  }
}
