import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { wakeMailboxes } from '../../../relay/delivery.ts';
import type { Mailbox, StoredEnvelope } from '../../../relay/storage.ts';

// How the arrivals of one store (a send.batch or send.multi may hold several
// envelopes for one device) reach a mailbox's connections (relay/delivery.ts):
// once per mailbox, with all its envelopes in seq order, or with none when any
// of them is unknown (then the window reads, so nothing is skipped).

const box = (): Mailbox => ({ accountId: accountIdSchema.parse(randomUUID()), deviceId: 1 });
const envelope = (seq: number): StoredEnvelope => ({
  seq,
  id: randomBytes(16).toString('base64url'),
  body: new Uint8Array(randomBytes(8)),
  receivedAt: 1,
});

it('each mailbox is told once: all its envelopes in seq order, or nothing known if one is unknown', () => {
  const [a, b, c] = [box(), box(), box()];
  const [a1, a2, a3, b1] = [envelope(1), envelope(2), envelope(3), envelope(1)];
  const told = new Map<string, (readonly StoredEnvelope[] | undefined)[]>();
  wakeMailboxes(
    [
      { mailbox: a, envelopes: [a3] },
      { mailbox: b },
      { mailbox: a, envelopes: [a1, a2] },
      { mailbox: b, envelopes: [b1] },
      { mailbox: c },
    ],
    (mailbox) => [
      {
        envelopesArrived: (envelopes) =>
          told.set(mailbox.accountId, [...(told.get(mailbox.accountId) ?? []), envelopes]),
      },
    ],
  );
  expect(told.get(a.accountId)).toEqual([[a1, a2, a3]]);
  expect(told.get(b.accountId)).toEqual([undefined]);
  expect(told.get(c.accountId)).toEqual([undefined]);
});
