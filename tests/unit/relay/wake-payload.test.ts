import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import {
  CARRIED_FRESH_MS,
  carriedItem,
  MAX_CARRIED_BODY,
  mailboxItem,
  parsePayload,
  sealPayload,
} from '../../../relay/postgres/wake-payload.ts';
import type { Mailbox, StoredEnvelope } from '../../../relay/storage.ts';

// Wakeup payloads that carry envelopes (relay/postgres/wake-payload.ts): any
// role that can connect may NOTIFY on the channel, so a carried envelope
// counts only under the wake key's MAC, fresh, complete for its mailbox, and
// well-formed; anything else is at most a wakeup (the receiver reads).

const NOW = 1_800_000_000_000;
const key = randomBytes(32);
const box = (): Mailbox => ({ accountId: accountIdSchema.parse(randomUUID()), deviceId: 2 });
const envelope = (seq: number, bytes = 64, receivedAt = NOW): StoredEnvelope => ({
  seq,
  id: randomBytes(16).toString('base64url'),
  body: new Uint8Array(randomBytes(bytes)),
  receivedAt,
});
const carried = (mailbox: Mailbox, e: StoredEnvelope): string => {
  const item = carriedItem(mailbox, e);
  if (item === undefined) throw new Error('too big to carry');
  return item;
};

describe('wakeup payloads', () => {
  it('a signed payload gives the receiver each mailbox with its envelopes, byte for byte, in seq order', () => {
    const [a, b] = [box(), box()];
    const [a7, a8, b1] = [envelope(7), envelope(8), envelope(1, MAX_CARRIED_BODY)];
    const payload = sealPayload(
      'node1',
      [mailboxItem(a), carried(a, a8), carried(a, a7), mailboxItem(b), carried(b, b1)],
      key,
    );
    expect(payload.length).toBeLessThan(8000);
    const { node, arrivals } = parsePayload(payload, key, NOW + 1_000);
    expect(node).toBe('node1');
    expect(arrivals).toEqual([
      { mailbox: a, envelopes: [a7, a8] },
      { mailbox: b, envelopes: [b1] },
    ]);
  });

  it('a payload of plain items (the previous release) only wakes', () => {
    const [a, b] = [box(), box()];
    const { arrivals } = parsePayload(`n ${mailboxItem(a)} ${mailboxItem(b)}`, key, NOW);
    expect(arrivals).toEqual([{ mailbox: a }, { mailbox: b }]);
  });

  it('forged: carried envelopes without a MAC, or under another key, only wake their mailbox', () => {
    const a = box();
    const items = [mailboxItem(a), carried(a, envelope(3))];
    const unsigned = `n ${items.join(' ')}`;
    const otherKey = sealPayload('n', items, randomBytes(32));
    const garbage = `${unsigned} #${'A'.repeat(22)}`;
    for (const payload of [unsigned, otherKey, garbage])
      expect(parsePayload(payload, key, NOW).arrivals).toEqual([{ mailbox: a }]);
  });

  it('tampered: a signed payload with a changed body, seq or id is not trusted', () => {
    const a = box();
    const e = envelope(3);
    const payload = sealPayload('n', [mailboxItem(a), carried(a, e)], key);
    const tampered = [
      payload.replace(`:${e.seq}:`, `:${e.seq + 1}:`),
      payload.replace(`:${e.id}:`, `:${randomBytes(16).toString('base64url')}:`),
      payload.replace(/:[A-Za-z0-9_-]+ #/, ':AAAA #'),
    ];
    for (const changed of tampered) {
      expect(changed).not.toBe(payload);
      expect(parsePayload(changed, key, NOW).arrivals).toEqual([{ mailbox: a }]);
    }
  });

  it('replayed later than the freshness bound, or from a clock far ahead: only a wakeup', () => {
    const a = box();
    const old = envelope(3, 64, NOW - CARRIED_FRESH_MS - 1);
    const ahead = envelope(4, 64, NOW + CARRIED_FRESH_MS + 1);
    for (const e of [old, ahead]) {
      const payload = sealPayload('n', [mailboxItem(a), carried(a, e)], key);
      expect(parsePayload(payload, key, NOW).arrivals).toEqual([{ mailbox: a }]);
    }
  });

  it('oversized: a body over the carry limit is never carried, and a forged long item is refused even when signed', () => {
    const a = box();
    expect(carriedItem(a, envelope(1, MAX_CARRIED_BODY + 1))).toBeUndefined();
    const long = `+${mailboxItem(a)}:1:${'x'.repeat(22)}:${NOW}:${'A'.repeat(4 * MAX_CARRIED_BODY)}`;
    const payload = sealPayload('n', [mailboxItem(a), long], key);
    expect(parsePayload(payload, key, NOW).arrivals).toEqual([{ mailbox: a }]);
  });

  it('malformed carried items (signed) make the whole payload only a wakeup, and bad plain items are skipped', () => {
    const [a, b] = [box(), box()];
    const good = carried(b, envelope(5));
    const bad = [
      `+${mailboxItem(a)}:0:${'x'.repeat(22)}:${NOW}:AAAA`,
      `+${mailboxItem(a)}:1e3:${'x'.repeat(22)}:${NOW}:AAAA`,
      `+${mailboxItem(a)}:1:bad/id:${NOW}:AAAA`,
      `+${mailboxItem(a)}:1:${'x'.repeat(22)}:${NOW}:AA+A`,
      `+${mailboxItem(a)}:1:${'x'.repeat(22)}:${NOW}:AAAA:extra`,
      `+${a.accountId}:128:1:${'x'.repeat(22)}:${NOW}:AAAA`,
      `+not-an-account:1:1:${'x'.repeat(22)}:${NOW}:AAAA`,
      `+${mailboxItem(a)}:99999999999999999:${'x'.repeat(22)}:${NOW}:AAAA`,
    ];
    for (const item of bad) {
      const payload = sealPayload('n', [mailboxItem(a), item, mailboxItem(b), good], key);
      expect(parsePayload(payload, key, NOW).arrivals).toEqual([{ mailbox: a }, { mailbox: b }]);
    }
    const plain = `n ${a.accountId}:0 ${a.accountId}:1e2 ${a.accountId}:2:3 nonsense ${mailboxItem(b)}`;
    expect(parsePayload(plain, key, NOW).arrivals).toEqual([{ mailbox: b }]);
  });

  it('a mailbox one of whose carried envelopes is stale is read, not pushed in part', () => {
    const a = box();
    const payload = sealPayload(
      'n',
      [mailboxItem(a), carried(a, envelope(1)), carried(a, envelope(2, 64, 1))],
      key,
    );
    expect(parsePayload(payload, key, NOW).arrivals).toEqual([{ mailbox: a }]);
  });
});
