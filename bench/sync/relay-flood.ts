import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { tempDir } from '../support/temp.ts';
import { RawRelayClient } from './raw-client.ts';
import { openFileLimit, startRelayChild } from './relay-child.ts';

// Relay intake under a flood of strangers while an honest pair talks. The
// strangers are anonymous connections that send as fast as the relay answers:
// most with wrong tokens (junk at the honest pair's mailboxes), some with a
// valid token to a third mailbox (a leaked token: stored until that mailbox's
// budget refuses). The honest pair's round trip is measured idle, then under the flood.

/** Shape of the flood benchmark. */
export interface FloodPlan {
  readonly strangers: number;
  /** Of the strangers, how many hold a valid token (to a third mailbox). */
  readonly withToken: number;
  /** Handshakes in flight at once while opening. */
  readonly concurrency: number;
  readonly roundTrips: number;
  readonly warmup: number;
  readonly bodyBytes: number;
}

/** What the flood benchmark measured. */
export interface FloodResult {
  readonly idle: readonly number[];
  readonly flooded: readonly number[];
  readonly strangersReady: number;
  /** Stranger requests answered during the flooded measurement, by answer. */
  readonly answers: ReadonlyMap<string, number>;
  readonly floodSeconds: number;
  readonly fdLimit: number | undefined;
}

/** One side of the honest pair: its mailbox connection and its sending connection. */
interface Party {
  readonly home: RawRelayClient;
  readonly out: RawRelayClient;
}

async function party(url: string): Promise<Party> {
  return { home: await RawRelayClient.connect(url, 'account'), out: await RawRelayClient.connect(url, 'anonymous') };
}

/** Resolves with the arrival time of the envelope whose body is `body`. */
function arrival(at: RawRelayClient, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no push within 30 s')), 30_000);
    at.onEnvelope = (envelope, time) => {
      if (envelope.body !== body) return;
      clearTimeout(timer);
      at.onEnvelope = undefined;
      resolve(time);
    };
  });
}

/** A message from A to B and B's reply to A: ms from A's send to A's push. */
async function roundTrip(a: Party, b: Party, bodyBytes: number): Promise<number> {
  const ping = randomBytes(bodyBytes).toString('base64');
  const pong = randomBytes(bodyBytes).toString('base64');
  const start = performance.now();
  const atB = arrival(b.home, ping);
  const atA = arrival(a.home, pong);
  await a.out.send(b.home.accountId, b.home.token, ping);
  await atB;
  await b.out.send(a.home.accountId, a.home.token, pong);
  return (await atA) - start;
}

async function roundTrips(a: Party, b: Party, plan: FloodPlan): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < plan.warmup + plan.roundTrips; i++) {
    const ms = await roundTrip(a, b, plan.bodyBytes);
    if (i >= plan.warmup) times.push(ms);
  }
  return times;
}

async function openStrangers(url: string, plan: FloodPlan): Promise<RawRelayClient[]> {
  const strangers: RawRelayClient[] = [];
  let started = 0;
  const worker = async () => {
    while (started < plan.strangers) {
      started++;
      strangers.push(await RawRelayClient.connect(url, 'anonymous'));
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  return strangers;
}

/** Runs the flood benchmark against its own relay child (default budgets, loopback caps lifted). */
export async function relayFlood(plan: FloodPlan): Promise<FloodResult> {
  const relay = await startRelayChild(tempDir('sotto-bench-flood-'));
  const clients: RawRelayClient[] = [];
  try {
    const [alice, bob] = [await party(relay.url), await party(relay.url)];
    const leaked = await RawRelayClient.connect(relay.url, 'account');
    clients.push(alice.home, alice.out, bob.home, bob.out, leaked);
    const idle = await roundTrips(alice, bob, plan);

    const strangers = await openStrangers(relay.url, plan);
    clients.push(...strangers);
    const answers = new Map<string, number>();
    let flooding = true;
    const junk = randomBytes(plan.bodyBytes).toString('base64');
    const wrongToken = randomBytes(16).toString('base64');
    const flood = async (stranger: RawRelayClient, index: number) => {
      const target = index < plan.withToken ? leaked : index % 2 === 0 ? alice.home : bob.home;
      const token = index < plan.withToken ? leaked.token : wrongToken;
      while (flooding && stranger.open) {
        const outcome = await stranger.trySend(target.accountId, token, junk).catch(() => 'closed');
        answers.set(outcome, (answers.get(outcome) ?? 0) + 1);
      }
    };
    const floods = strangers.map(flood);
    // Progress, not a sleep: measure once every stranger has been answered at least once.
    while ([...answers.values()].reduce((n, c) => n + c, 0) < plan.strangers)
      await new Promise((resolve) => setTimeout(resolve, 10));
    answers.clear();
    const floodStart = performance.now();
    const flooded = await roundTrips(alice, bob, plan);
    const floodSeconds = (performance.now() - floodStart) / 1000;
    const counted = new Map(answers);
    flooding = false;
    await Promise.all(floods);
    return {
      idle,
      flooded,
      strangersReady: strangers.length,
      answers: counted,
      floodSeconds,
      fdLimit: openFileLimit(relay.pid),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await relay.stop();
  }
}
