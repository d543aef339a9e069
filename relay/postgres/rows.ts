import { z } from 'zod';
import { accountIdSchema } from '../../shared/protocol/account-id.ts';
import { relayIdSchema } from '../../shared/relay/protocol.ts';
import type { AccountRecord, StoredEnvelope, StoreResult } from '../storage.ts';
import { WAKE_KEY_PATTERN } from './wake-payload.ts';

// Rows read back from PostgreSQL are parsed like any other input. node-postgres
// hands bigint columns over as strings (they may exceed 2^53): the counters and
// times here never do, so they become numbers after a range check.

const bytes = z.instanceof(Uint8Array);
const bigintText = z.union([z.string(), z.number()]).transform(Number).pipe(z.number().int());

export const relayIdRowSchema = z.object({ value: relayIdSchema });
export const wakeKeyRowSchema = z.object({ value: z.string().regex(WAKE_KEY_PATTERN) });
export const metaRowsSchema = z.array(z.object({ key: z.string(), value: z.string() }));
export const identityKeyRowSchema = z.object({ identity_key: bytes });
export const countRowSchema = z.object({ n: bigintText });
export const ackRowSchema = z.object({ g: z.number().int(), removed: z.number().int() });
/** An ack's row of relay_ack_store (kind 'ack'). */
export const ackStoreRowSchema = z.object({ kind: z.literal('ack'), removed: z.number().int() });
export const listPositionSchema = z.object({ n: bigintText });
export const keyIdRowSchema = z.object({ key_id: z.number().int() });
export const movedRowSchema = z.object({ moved_at: bigintText.nullable() });
export const envelopeIdRowSchema = z.object({ id: z.string() });
export const newestSeqRowSchema = z.object({
  account_id: accountIdSchema,
  device_id: z.number().int(),
  seq: bigintText,
});
export const mailboxBytesRowSchema = z.object({
  account_id: accountIdSchema,
  device_id: z.number().int(),
  removed: bigintText,
  bytes: bigintText,
});

const accountRowSchema = z.object({
  identity_key: bytes,
  token_hash: bytes.nullable(),
  moved_at: bigintText.nullable(),
});

const envelopeRowSchema = z.object({
  seq: bigintText,
  id: z.string(),
  body: bytes,
  received_at: bigintText,
});

// relay_store_batch's rows also carry n (the input position); the caller orders by it.
// relay_store_sequenced's (migration 6) also the seq of a stored envelope.
const storeRowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('stored'), envelope_id: z.string(), seq: bigintText.nullish() }),
  z.object({ kind: z.literal('duplicate'), envelope_id: z.string() }),
  z.object({
    kind: z.enum(['mailbox-full', 'storage-full', 'bad-token', 'moved']),
    envelope_id: z.null(),
  }),
]);

/** An account record from an `account` row. */
export function accountFromRow(row: unknown): AccountRecord {
  const parsed = accountRowSchema.parse(row);
  return {
    identityKey: Uint8Array.from(parsed.identity_key),
    tokenHash: parsed.token_hash === null ? undefined : Uint8Array.from(parsed.token_hash),
    moved: parsed.moved_at !== null,
  };
}

/** A stored envelope from an `envelope` row. */
export function envelopeFromRow(row: unknown): StoredEnvelope {
  const parsed = envelopeRowSchema.parse(row);
  return {
    seq: parsed.seq,
    id: parsed.id,
    body: Uint8Array.from(parsed.body),
    receivedAt: parsed.received_at,
  };
}

/** What relay_store_batch() answered for one envelope. */
export function storeResultFromRow(row: unknown): StoreResult {
  const parsed = storeRowSchema.parse(row);
  if (parsed.kind === 'stored')
    return parsed.seq === undefined || parsed.seq === null
      ? { kind: 'stored', envelopeId: parsed.envelope_id }
      : { kind: 'stored', envelopeId: parsed.envelope_id, seq: parsed.seq };
  return parsed.kind === 'duplicate'
    ? { kind: parsed.kind, envelopeId: parsed.envelope_id }
    : { kind: parsed.kind };
}
