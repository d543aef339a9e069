import { afterEach, describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { CLI_PASSPHRASE, cli, cliPair, history, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

const MESSAGES = 2000;
// 2,000 messages in one `send` go over the relay's default per-connection and
// per-destination send budgets (500 and 2,000 bursts): this test is about crashes, not budgets.
const BUDGETS = [
  '--budget',
  'connection-sends=100000/10000',
  '--budget',
  'destination-messages=100000/10000',
];
const KILLS = 12;

let relay: RelayProcess | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

/** A deterministic pseudo-random sequence, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('crash recovery (R1, R2, R3)', () => {
  it('kill -9 of the receiver at random moments and relay restarts mid-stream: every message exactly once', async () => {
    const data = tempDir();
    relay = await startRelayProcess(data, { args: BUDGETS });
    const port = relay.port;
    const { alice, bob } = await cliPair(tempDir(), relay.url);
    const bodies = Array.from({ length: MESSAGES }, (_, i) => `message ${i} of the stream`);
    expect(
      JSON.parse(await cli(alice, ['--json', 'send', 'Bob', '--stdin'], bodies.join('\n'))),
    ).toMatchObject({ sent: MESSAGES });

    const next = random(20261126);
    let kills = 0;
    let midStream = 0;
    for (let round = 0; round < KILLS; round++) {
      // `listen` prints a line per stored message: kill it after a random number of
      // them, so every kill lands mid-stream (or after 8 s if the stream ran dry).
      // Every third round the relay is restarted while the receiver is mid-stream.
      const target = 20 + Math.floor(next() * 150);
      const restartRelay = round % 3 === 1;
      let restarting: Promise<void> | undefined;
      let killed = false;
      const result = await runCli(bob, ['listen'], {
        onSpawn: (kill) => setTimeout(() => kill('SIGKILL'), 8_000),
        onStdout: (output, kill) => {
          const seen = (output.match(/"type":"message"/g) ?? []).length;
          if (restartRelay && !restarting && seen >= target / 2) {
            restarting = relay!.stop().then(async () => {
              relay = await startRelayProcess(data, { port, args: BUDGETS });
            });
          }
          if (!killed && seen >= target) {
            killed = true;
            midStream++;
            kill('SIGKILL');
          }
        },
      });
      await restarting;
      if (result.signal === 'SIGKILL') kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(midStream).toBeGreaterThanOrEqual(10);

    // Recovery: receive until nothing more comes.
    for (let attempt = 0; attempt < 10; attempt++) {
      const report = JSON.parse(await cli(bob, ['--json', 'receive'])) as { stored: number };
      if (report.stored === 0) break;
    }
    const received = (await history(bob, 'Alice')).filter((m) => !m.outgoing).map((m) => m.body);
    expect(received).toHaveLength(MESSAGES);
    expect(received).toEqual(bodies);

    const profile = await Profile.open(bob, { passphrase: CLI_PASSPHRASE });
    expect((await profile.verifyIntegrity()).ok).toBe(true);
    await profile.close();

    // The conversation continues both ways.
    await cli(bob, ['send', 'Alice', 'still here after all that']);
    expect(JSON.parse(await cli(alice, ['--json', 'sync']))).toMatchObject({ stored: 1 });
    await cli(alice, ['send', 'Bob', 'glad to hear it']);
    expect(JSON.parse(await cli(bob, ['--json', 'receive']))).toMatchObject({ stored: 1 });
  });
});
