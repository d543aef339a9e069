import { describe, expect, it } from 'vitest';
import { connectAnonymous, newToken, relayDataDir } from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { sendOk } from './fixtures.ts';
import {
  expectWholeSendRefused,
  group,
  innerMessage,
  type Member,
  member,
  multiFrame,
  outcomes,
  queued,
  senderFor,
  tokensOf,
} from './multi-fixtures.ts';

// send.multi against the relay's budgets and quotas: the source pays per
// recipient and per stored copy before any token is checked, each recipient's
// own budgets and mailbox refuse that recipient only, and refusals slow the
// connection that asked for them.

/** Runs `body` against a relay process started with `args`, which must then stop cleanly. */
async function withRelay(
  args: readonly string[],
  body: (relay: RelayProcess) => Promise<void>,
): Promise<void> {
  const relay = await startRelayProcess(relayDataDir(), { args });
  try {
    await body(relay);
  } finally {
    expect(await relay.stop()).toBe(0);
  }
}

describe('send.multi budgets and quotas', () => {
  it('a send over the connection budget (one send per recipient) is OVER_BUDGET as a whole: nothing stored', async () => {
    await withRelay(['--budget', 'connection-sends=2/0.001'], async (relay) => {
      const { members, body } = await group(relay.url);
      const anonymous = await connectAnonymous(relay.url);
      const answer = await anonymous.request(multiFrame(body, tokensOf(members)));
      expect(answer).toMatchObject({ type: 'error', code: 'RELAY_ERR_OVER_BUDGET' });
      expect(answer.type === 'error' && (answer.retryAfterMs ?? 0) > 0).toBe(true);
      for (const m of members) expect(await queued(relay.url, m)).toBe(0);
      // The refusal took nothing: two recipients still fit the budget of two.
      const pair = members.slice(0, 2);
      const sender = await senderFor(pair.map((m) => m.target));
      const small = await sender.seal(
        pair.map((m) => m.target),
        innerMessage(),
      );
      expect(outcomes(await anonymous.request(multiFrame(small.body, tokensOf(pair))))).toEqual([
        'stored',
        'stored',
      ]);
      await anonymous.close();
    });
  });

  it('the source pays the bytes of every copy, not of the body: one frame writes no more than the same sends could', async () => {
    await withRelay(['--budget', 'connection-bytes=4000/0.001'], async (relay) => {
      const members = [await member(relay.url), await member(relay.url), await member(relay.url)];
      const sender = await senderFor(members.map((m) => m.target));
      // A 2,000-byte message: the body is about 2.5 KB (within 4,000), its three copies over 6 KB.
      const { body } = await sender.seal(
        members.map((m) => m.target),
        innerMessage(2_000),
      );
      expect(body.length).toBeLessThan(4_000);
      await expectWholeSendRefused(relay.url, members, body, 'RELAY_ERR_OVER_BUDGET');
    });
  });

  it('a full mailbox or a spent destination budget refuses that recipient only', async () => {
    await withRelay(
      ['--mailbox-quota', '2', '--budget', 'destination-messages=3/0.001'],
      async (relay) => {
        const { members, body } = await group(relay.url);
        const [alice, bob, carol] = members as [Member, Member, Member];
        const anonymous = await connectAnonymous(relay.url);
        for (let i = 0; i < 2; i++) await sendOk(anonymous, bob.device, bob.token);
        for (let i = 0; i < 3; i++) {
          // Carol's destination budget: three envelopes, acked so her mailbox has room.
          const id = await sendOk(anonymous, carol.device, carol.token);
          await carol.client.next('envelopes');
          await carol.client.request({ type: 'ack', envelopeIds: [id] });
        }
        expect(outcomes(await anonymous.request(multiFrame(body, tokensOf(members))))).toEqual([
          'stored',
          'RELAY_ERR_MAILBOX_FULL',
          'RELAY_ERR_OVER_BUDGET',
        ]);
        expect(await queued(relay.url, alice)).toBe(1);
        expect(await queued(relay.url, bob)).toBe(2);
        expect(await queued(relay.url, carol)).toBe(0);
        await anonymous.close();
      },
    );
  });
});

describe('send.multi refusals and the connection’s refusal budget', () => {
  it('each refused recipient counts: over the budget, the connection is not read for a while', async () => {
    await withRelay(['--budget', 'connection-refusals=5/2'], async (relay) => {
      const { members, body } = await group(relay.url);
      const stranger = await connectAnonymous(relay.url);
      const wrong = members.map((m) => ({ accountId: m.device.accountId, token: newToken() }));
      const answeredAt: number[] = [];
      const stamp = <T>(answer: Promise<T>) =>
        answer.then((a) => {
          answeredAt.push(performance.now());
          return a;
        });
      // Three refusals, then three more (6 > 5): the ping behind them waits about 500 ms.
      const answers = await Promise.all([
        stamp(stranger.request(multiFrame(body, wrong))),
        stamp(stranger.request(multiFrame(body, wrong))),
        stamp(stranger.request({ type: 'ping' })),
      ]);
      expect(answers.slice(0, 2).map(outcomes)).toEqual([
        ['RELAY_ERR_BAD_TOKEN', 'RELAY_ERR_BAD_TOKEN', 'RELAY_ERR_BAD_TOKEN'],
        ['RELAY_ERR_BAD_TOKEN', 'RELAY_ERR_BAD_TOKEN', 'RELAY_ERR_BAD_TOKEN'],
      ]);
      expect(answeredAt[1]! - answeredAt[0]!).toBeLessThan(350);
      expect(answeredAt[2]! - answeredAt[1]!).toBeGreaterThanOrEqual(350);
      for (const m of members) expect(await queued(relay.url, m)).toBe(0);
      await stranger.close();
    });
  });
});
