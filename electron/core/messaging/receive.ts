import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import {
  CiphertextMessageType,
  ErrorCode,
  groupDecrypt,
  LibSignalErrorBase,
  PreKeySignalMessage,
  type ProtocolAddress,
  SignalMessage,
  signalDecrypt,
  signalDecryptPreKey,
} from '@signalapp/libsignal-client';
import { type Content, decodeContent } from '../../../shared/protocol/content.ts';
import { retryRequestFor } from '../groups/group-retry.ts';
import { queueGroupContent } from './outbox.ts';
import { BatchGroups, checkGroupContent } from '../groups/group-decrypt.ts';
import { SenderKeyUnit } from '../groups/sender-key-store.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Profile } from '../profile/profile.ts';
import type { IncomingEnvelope } from '../sync/relay.ts';
import { localAddress, peerAddress } from './addresses.ts';
import {
  commitBatch,
  type Decoded,
  type EnvelopeOutcome,
  type Opened,
  queueReceipts,
} from './receive-commit.ts';
import type { Failure } from './receive-failures.ts';
import {
  type EnvelopeSource,
  type KeptEnvelope,
  loadUnprocessed,
  seenBefore,
  settleUnprocessed,
} from './receive-unprocessed.ts';
import { unseal } from './sealed.ts';

export type { IncomingEnvelope } from '../sync/relay.ts';
export type { EnvelopeOutcome } from './receive-commit.ts';
export {
  MAX_ENVELOPE_ATTEMPTS,
  rejectedEnvelopeCount,
  type FailureCode,
} from './receive-failures.ts';
export { MAX_UNPROCESSED_ENVELOPES, unprocessedEnvelopeCount } from './receive-unprocessed.ts';

/** Options of a receive pass. */
export interface ReceiveOptions {
  /** Queue delivery receipts for the messages stored (they go out after a random 1–10 s). */
  readonly sendReceipts?: boolean;
  readonly now?: number;
  /** Overrides the receipt delay (tests). */
  readonly receiptDelayMs?: () => number;
}

/**
 * Opens, checks, decrypts and stores a batch of sealed envelopes through one
 * unit of work, and commits every protocol-state change, every message and
 * every envelope id in one transaction (R2). Only after this returns may the
 * envelopes be acked (R1), and then all of them: one whose inner layer failed
 * (`retry`) was kept in `unprocessed_envelopes` by the same commit. If the
 * commit fails, nothing advanced: the same envelopes decrypt again. Envelopes
 * whose seal or certificate fails the acceptance rules (sealed.ts), or that
 * come from a blocked contact, are rejected at once: recorded, never shown.
 */
export function processEnvelopes(
  profile: Profile,
  envelopes: readonly IncomingEnvelope[],
  options: ReceiveOptions = {},
): Promise<EnvelopeOutcome[]> {
  return profile.exclusive(() =>
    processBatch(profile, envelopes, options, sealedOpener(profile), 'relay'),
  );
}

/** Kept envelopes retried per transaction. */
const RETRY_PAGE = 100;

/**
 * Retries every envelope kept in `unprocessed_envelopes` before `keptBefore`
 * (default: all) once, oldest first, in committed pages (R5): each retry
 * counts an attempt; the third failure rejects it. Processed and rejected ones
 * leave the table. Nothing here is acked: the relay copies were acked when
 * they were kept.
 */
export async function retryUnprocessed(
  profile: Profile,
  options: ReceiveOptions & { readonly keptBefore?: number } = {},
): Promise<EnvelopeOutcome[]> {
  const outcomes: EnvelopeOutcome[] = [];
  const keptBefore = options.keptBefore ?? Number.MAX_SAFE_INTEGER;
  let cursor: KeptEnvelope | undefined;
  for (;;) {
    const page = loadUnprocessed(profile.db, RETRY_PAGE, keptBefore, cursor);
    if (page.length === 0) return outcomes;
    cursor = page.at(-1);
    const envelopes = page.map((kept) => kept.envelope);
    outcomes.push(
      ...(await profile.exclusive(() =>
        processBatch(profile, envelopes, options, sealedOpener(profile), 'unprocessed'),
      )),
    );
  }
}

function sealedOpener(profile: Profile): Opener {
  return async (unit, envelope) => {
    const opened = await unseal(profile, unit, envelope.body, envelope.serverTime);
    return opened.ok ? { ok: true, value: opened.value } : { ok: false, error: opened.error };
  };
}

/** An unsealed inner message with a sender nobody vouched for: the protocol-1 path. */
export interface InnerEnvelope {
  readonly id: string;
  readonly sender: string;
  readonly senderDevice: number;
  readonly type: number;
  readonly body: Uint8Array;
}

/**
 * Bench baseline only (bench/receive): the same pipeline for inner Signal
 * messages whose sender is taken on trust, to measure what sealing costs.
 * Relay input must never come this way: it is the unsealed path the review
 * showed to be forgeable.
 */
export function processInnerMessagesForBench(
  profile: Profile,
  envelopes: readonly InnerEnvelope[],
): Promise<EnvelopeOutcome[]> {
  return profile.exclusive(() =>
    processBatch(
      profile,
      envelopes.map((e) => ({ id: e.id, body: e.body, serverTime: 0 })),
      {},
      (_unit, envelope) => {
        const inner = envelopes.find((e) => e.id === envelope.id);
        if (!inner) return Promise.resolve({ ok: false, error: 'UNSEAL_FAILED' });
        return Promise.resolve({
          ok: true,
          value: {
            ...inner,
            sender: accountIdSchema.parse(inner.sender),
            body: Uint8Array.from(inner.body),
          },
        });
      },
      'relay',
    ),
  );
}

type Opener = (
  unit: ProtocolTransaction,
  envelope: IncomingEnvelope,
) => Promise<{ ok: true; value: Opened } | { ok: false; error: Failure['error'] }>;

async function processBatch(
  profile: Profile,
  envelopes: readonly IncomingEnvelope[],
  options: ReceiveOptions,
  open: Opener,
  source: EnvelopeSource,
): Promise<EnvelopeOutcome[]> {
  const now = options.now ?? Date.now();
  profile.assertUsable();
  const tx = new ProtocolTransaction(profile.state);
  // Sender-key records advance with the envelopes that advanced them, in the same commit (R2).
  const senderKeys = new SenderKeyUnit(profile.db);
  const groups = new BatchGroups(profile.db, profile.account.accountId);
  const alreadyProcessed = seenBefore(profile.db, source);
  const isBlocked = profile.db.prepare(
    'SELECT 1 FROM contacts WHERE account_id = ? AND blocked = 1',
  );
  const inBatch = new Set<string>();
  const duplicates: IncomingEnvelope[] = [];
  const echoes: IncomingEnvelope[] = [];
  const decoded: Decoded[] = [];
  const failures: Failure[] = [];
  const retryRequests: { recipient: string; content: Content }[] = [];

  for (const envelope of envelopes) {
    const seen = inBatch.has(envelope.id) ? 'echo' : alreadyProcessed(envelope.id);
    if (seen === 'processed') duplicates.push(envelope);
    // Another copy of an id this batch handles or the table keeps: its fate is that copy's, so it
    // is acked as a duplicate without being marked processed (which would end the kept copy).
    if (seen === 'echo' || seen === 'kept') echoes.push(envelope);
    if (seen !== undefined) continue;
    inBatch.add(envelope.id);
    const unit = tx.child();
    const keys = senderKeys.child();
    const opened = await open(unit, envelope);
    if (!opened.ok) {
      // Nothing about the sender is established: record no account with it.
      failures.push({ envelope, sender: '', error: opened.error, final: true });
      continue;
    }
    const sender = opened.value;
    if (isBlocked.get([sender.sender])) {
      failures.push({ envelope, sender: sender.sender, error: 'BLOCKED_SENDER', final: true });
      continue;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = await decrypt(unit, keys, groups, sender, localAddress(profile));
    } catch (error) {
      if (LibSignalErrorBase.is(error, ErrorCode.DuplicatedMessage)) duplicates.push(envelope);
      else if (error instanceof UnknownTypeError) {
        failures.push({ envelope, sender: sender.sender, error: 'UNKNOWN_TYPE', final: true });
      } else if (error instanceof NotGroupMemberError) {
        failures.push({ envelope, sender: sender.sender, error: 'NOT_GROUP_MEMBER', final: true });
      } else {
        failures.push({ envelope, sender: sender.sender, error: 'DECRYPT_FAILED', final: false });
        // A member's group message we cannot open (no chain): ask its sender to resend (groups/group-retry.ts).
        const request = sender.groupId
          ? retryRequestFor(
              sender.body,
              sender.groupId,
              sender.senderDevice,
              envelope.serverTime,
              now,
            )
          : undefined;
        if (request) retryRequests.push({ recipient: sender.sender, content: request });
      }
      continue;
    }
    let content;
    try {
      content = decodeContent(plaintext);
    } catch {
      failures.push({ envelope, sender: sender.sender, error: 'BAD_CONTENT', final: false });
      continue;
    }
    const checked = await checkGroupContent(groups, keys, sender, content);
    if (checked === 'refuse') {
      // A group message outside its sender-key envelope, or a 1:1 content inside one: never valid.
      failures.push({ envelope, sender: sender.sender, error: 'BAD_CONTENT', final: true });
      continue;
    }
    decoded.push({ envelope, sender, content, ...(checked ? { ignored: checked } : {}) });
    unit.mergeIntoParent();
    keys.mergeIntoParent();
  }

  return profile.commit(
    tx,
    (db) => {
      senderKeys.write(db, now);
      const self = { accountId: profile.account.accountId, deviceId: profile.account.deviceId };
      const outcomes = commitBatch(db, tx, self, duplicates, decoded, failures, now);
      // Only a `retry` needs its body kept, and only inner failures (in `failures`) are retried.
      settleUnprocessed(
        db,
        new Map(failures.map((f) => [f.envelope.id, f.envelope])),
        outcomes,
        now,
      );
      if (options.sendReceipts) queueReceipts(db, decoded, outcomes, now, options.receiptDelayMs);
      for (const r of retryRequests) queueGroupContent(db, r.recipient, r.content, now);
      return [
        ...outcomes,
        ...echoes.map((e): EnvelopeOutcome => ({ envelopeId: e.id, outcome: 'duplicate' })),
      ];
    },
    now,
  );
}

class UnknownTypeError extends Error {}
class NotGroupMemberError extends Error {}

async function decrypt(
  unit: ProtocolTransaction,
  keys: SenderKeyUnit,
  groups: BatchGroups,
  opened: Opened,
  self: ProtocolAddress,
): Promise<Uint8Array> {
  // The address is the certificate's: the sender the seal proved, never a relay's say-so.
  const address = peerAddress(opened.sender, opened.senderDevice);
  switch (opened.type as CiphertextMessageType) {
    case CiphertextMessageType.SenderKey:
      if (!opened.groupId) throw new UnknownTypeError();
      // Only a current member (with the key the group knows) may be decrypted at all.
      if (!groups.isMember(opened.groupId, opened.sender, opened.senderKey))
        throw new NotGroupMemberError();
      return groupDecrypt(address, keys.store, opened.body);
    case CiphertextMessageType.PreKey:
      return signalDecryptPreKey(
        PreKeySignalMessage.deserialize(opened.body),
        address,
        self,
        unit.sessionStore,
        unit.identityStore,
        unit.preKeyStore,
        unit.signedPreKeyStore,
        unit.kyberPreKeyStore,
      );
    case CiphertextMessageType.Whisper:
      return signalDecrypt(
        SignalMessage.deserialize(opened.body),
        address,
        self,
        unit.sessionStore,
        unit.identityStore,
      );
    default:
      throw new UnknownTypeError();
  }
}
