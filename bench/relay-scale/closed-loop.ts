import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TestPostgres } from '../../tests/support/postgres.ts';
import { startRelayProcess, useRelayStore } from '../../tests/support/relay-process.ts';
import type { Metric } from '../support/report.ts';
import { tempDir } from '../support/temp.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { THROUGHPUT_ARGS } from '../sync/relay-child.ts';

// What store gathering (relay/postgres/gathering.ts) costs a sender that
// waits for each answer before its next send: one uncapped PostgreSQL node,
// K anonymous senders on this machine each in a closed loop, sends a second.
// A store right after a call waits for company only while waits keep
// gathering stores that came by themselves; these senders only answer, so
// after a few waits theirs should go at once, as with gathering off.

/** Sends a second of `senders` closed loops for `seconds`, on a fresh node with `--store-gather-ms gatherMs`. */
async function closedLoopRate(
  postgres: TestPostgres,
  senders: number,
  gatherMs: number,
  seconds: number,
): Promise<number> {
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  const node = await startRelayProcess(tempDir(), {
    env: { SOTTO_RELAY_LOG: 'warn' },
    // A closed loop on loopback outruns the default 500 frames a second per connection.
    args: [
      ...THROUGHPUT_ARGS,
      '--max-frames-per-second',
      '100000',
      '--store-gather-ms',
      String(gatherMs),
    ],
  });
  const clients: RawRelayClient[] = [];
  try {
    const recipients = await Promise.all(
      Array.from({ length: senders }, () => RawRelayClient.connect(node.url)),
    );
    const loops = await Promise.all(
      Array.from({ length: senders }, () => RawRelayClient.connect(node.url, 'anonymous')),
    );
    clients.push(...recipients, ...loops);
    const body = randomBytes(256).toString('base64');
    const run = async (ms: number) => {
      const until = performance.now() + ms;
      const counts = await Promise.all(
        loops.map(async (loop, i) => {
          let sent = 0;
          while (performance.now() < until) {
            await loop.send(recipients[i]!.accountId, recipients[i]!.token, body);
            sent += 1;
          }
          return sent;
        }),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    };
    await run(1_000);
    const started = performance.now();
    const sent = await run(seconds * 1_000);
    return sent / ((performance.now() - started) / 1_000);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await node.stop();
  }
}

/** Sender counts of the closed-loop figure: one client, two, and a handful. */
const LOOP_SENDERS = [1, 2, 8] as const;
const LOOP_SECONDS = 5;

/** Closed-loop sends/s with gathering at its default against gathering off (the baseline, run just before). */
export async function closedLoopFigures(
  postgres: TestPostgres,
  section: string,
  gatherMs: number,
): Promise<Metric[]> {
  const metrics: Metric[] = [];
  for (const senders of LOOP_SENDERS) {
    const off = await closedLoopRate(postgres, senders, 0, LOOP_SECONDS);
    const on = await closedLoopRate(postgres, senders, gatherMs, LOOP_SECONDS);
    console.log(
      `  closed loop, ${senders} sender(s): ${Math.round(on)} sends/s with --store-gather-ms ${gatherMs}, ${Math.round(off)} with 0`,
    );
    const name = `closed loop, ${senders} sender${senders === 1 ? '' : 's'} awaiting each answer, one PostgreSQL node`;
    metrics.push(
      { section, name: `${name}, store gathering off (baseline)`, value: off, unit: 'sends/s' },
      {
        section,
        name: `${name}, --store-gather-ms ${gatherMs}`,
        value: on,
        unit: 'sends/s',
        baseline: { name: 'gathering off', value: off },
      },
    );
  }
  return metrics;
}
