import { createHmac, timingSafeEqual } from 'node:crypto';
import { accountIdSchema } from '../../shared/protocol/account-id.ts';
import type { Arrival, Mailbox, StoredEnvelope } from '../storage.ts';

// The text of a cross-node wakeup (docs/relay-operations.md#cross-node-delivery):
//
//   <node id> <account>:<device> … [+<account>:<device>:<seq>:<id>:<received>:<body> … #<mac>]
//
// A plain item names a mailbox with new mail (the receiver reads it). A `+`
// item carries one stored envelope as its row holds it (seq, id, receive time,
// sealed body in base64url), so the receiver can push it without the read.
// Nodes of the previous release read only the plain items, which every
// mailbox keeps. Any role that can connect to the database may NOTIFY on the
// channel, so `+` items count only under a MAC made with the wake key (a
// relay_meta row only the relay's role reads, migration 6) and only while
// fresh; otherwise the payload is only a wakeup, and a wakeup only costs a
// read. A mailbox's `+` items in one payload are all its envelopes of that
// batch, or it has none (then the receiver reads).

/** Bodies up to this many bytes ride in the payload (base64url: 4/3 of it, of the 8,000 bytes NOTIFY allows). */
export const MAX_CARRIED_BODY = 1_536;
/**
 * A carried envelope whose receive time (the storer's clock) is further than
 * this from the receiver's clock only wakes: bounds what a replayed payload
 * can do, and nodes with clocks that far apart simply read.
 */
export const CARRIED_FRESH_MS = 30_000;
const MAC_BYTES = 16;

/** The wake key as relay_meta holds it: 64 hex digits. */
export const WAKE_KEY_PATTERN = /^[0-9a-f]{64}$/;

const DEVICE = /^[1-9][0-9]{0,2}$/;
const DIGITS = /^[1-9][0-9]{0,15}$/;
const ENVELOPE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const MAX_BODY_TEXT = Math.ceil((MAX_CARRIED_BODY * 4) / 3);

/** One stored envelope a batch names, with its bytes when the storer knows them. */
export interface WakeItem {
  readonly mailbox: Mailbox;
  readonly envelope?: StoredEnvelope;
}

/** The plain item of a mailbox. */
export function mailboxItem({ accountId, deviceId }: Mailbox): string {
  return `${accountId}:${deviceId}`;
}

/** The `+` item of an envelope, or undefined if its body is too big to carry. */
export function carriedItem(mailbox: Mailbox, envelope: StoredEnvelope): string | undefined {
  if (envelope.body.byteLength > MAX_CARRIED_BODY) return undefined;
  const body = Buffer.from(
    envelope.body.buffer,
    envelope.body.byteOffset,
    envelope.body.byteLength,
  );
  return `+${mailboxItem(mailbox)}:${envelope.seq}:${envelope.id}:${envelope.receivedAt}:${body.toString('base64url')}`;
}

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key)
    .update(text)
    .digest()
    .subarray(0, MAC_BYTES)
    .toString('base64url');
}

/** A payload from a node id and items; signed when it carries envelopes. */
export function sealPayload(nodeId: string, items: readonly string[], key: Buffer): string {
  const text = `${nodeId} ${items.join(' ')}`;
  return items.some((item) => item.startsWith('+')) ? `${text} #${mac(key, text)}` : text;
}

function parseMailbox(account: string, device: string): Mailbox | undefined {
  const accountId = accountIdSchema.safeParse(account);
  // Digits only: Number('') is 0 and Number('1e3') is 1000.
  if (!accountId.success || !DEVICE.test(device) || Number(device) > 127) return undefined;
  return { accountId: accountId.data, deviceId: Number(device) };
}

function parseCarried(item: string): { mailbox: Mailbox; envelope: StoredEnvelope } | undefined {
  const [account = '', device = '', seq = '', id = '', received = '', body = '', ...rest] = item
    .slice(1)
    .split(':');
  const mailbox = parseMailbox(account, device);
  if (
    mailbox === undefined ||
    rest.length !== 0 ||
    !DIGITS.test(seq) ||
    !ENVELOPE_ID.test(id) ||
    !DIGITS.test(received) ||
    body.length > MAX_BODY_TEXT ||
    !BASE64URL.test(body)
  )
    return undefined;
  const envelope = {
    seq: Number(seq),
    id,
    body: new Uint8Array(Buffer.from(body, 'base64url')),
    receivedAt: Number(received),
  };
  return Number.isSafeInteger(envelope.seq) ? { mailbox, envelope } : undefined;
}

/** The part of `payload` before its MAC if the MAC verifies under `key`, else undefined. */
function signedPart(payload: string, key: Buffer): string | undefined {
  const at = payload.lastIndexOf(' #');
  if (at < 0) return undefined;
  const text = payload.slice(0, at);
  const given = Buffer.from(payload.slice(at + 2));
  const expected = Buffer.from(mac(key, text));
  return given.length === expected.length && timingSafeEqual(given, expected) ? text : undefined;
}

/**
 * Reads a payload: its node id and what arrived. Malformed plain items are
 * skipped; `+` items count only if the MAC verifies, all of them parse and
 * they are fresh at `now`, and a mailbox whose `+` items do not all count is
 * only woken (its connections read).
 */
export function parsePayload(
  payload: string,
  key: Buffer,
  now: number,
): { node: string; arrivals: Arrival[] } {
  const signed = signedPart(payload, key);
  const [node = '', ...items] = (signed ?? payload).split(' ');
  const parsed = items.map((item) => (item.startsWith('+') ? parseCarried(item) : undefined));
  // What we signed always parses: anything else means trust none of it.
  const trusted =
    signed !== undefined && items.every((item, i) => !item.startsWith('+') || parsed[i]);
  const mailboxes = new Map<string, Mailbox>();
  const carried = new Map<string, StoredEnvelope[] | 'read'>();
  for (const [i, item] of items.entries()) {
    const envelope = parsed[i];
    if (envelope !== undefined) {
      const at = mailboxItem(envelope.mailbox);
      const list = carried.get(at) ?? [];
      const fresh = Math.abs(now - envelope.envelope.receivedAt) <= CARRIED_FRESH_MS;
      carried.set(
        at,
        !trusted || list === 'read' || !fresh ? 'read' : [...list, envelope.envelope],
      );
      if (!mailboxes.has(at)) mailboxes.set(at, envelope.mailbox);
      continue;
    }
    if (item.startsWith('+')) continue;
    const [account = '', device = '', ...rest] = item.split(':');
    const mailbox = rest.length === 0 ? parseMailbox(account, device) : undefined;
    if (mailbox !== undefined && !mailboxes.has(mailboxItem(mailbox)))
      mailboxes.set(mailboxItem(mailbox), mailbox);
  }
  const arrivals = [...mailboxes].map(([at, mailbox]): Arrival => {
    const envelopes = carried.get(at);
    return envelopes === undefined || envelopes === 'read'
      ? { mailbox }
      : { mailbox, envelopes: envelopes.sort((a, b) => a.seq - b.seq) };
  });
  return { node, arrivals };
}
