import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import {
  CiphertextMessageType,
  ErrorCode,
  LibSignalErrorBase,
  PreKeySignalMessage,
  SignalMessage,
  signalDecrypt,
  signalDecryptPreKey,
} from '@signalapp/libsignal-client';
import { decodeContent } from '../../../shared/protocol/content.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Profile } from '../profile/profile.ts';
import type { IncomingEnvelope } from '../sync/relay.ts';
import { localAddress, peerAddress } from './addresses.ts';
import {
  commitBatch,
  type Decoded,
  type EnvelopeOutcome,
  type Failure,
  type Opened,
  queueReceipts,
} from './receive-commit.ts';
import {
  type EnvelopeSource,
  type KeptEnvelope,
  loadUnprocessed,
  seenBefore,
  settleUnprocessed,
} from './receive-unprocessed.ts';
import { unseal } from './sealed.ts';

export type { IncomingEnvelope } from '../sync/relay.ts';
export {
  MAX_ENVELOPE_ATTEMPTS,
  rejectedEnvelopeCount,
  type EnvelopeOutcome,
  type FailureCode,
} from './receive-commit.ts';
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
  const alreadyProcessed = seenBefore(profile.db, source);
  const isBlocked = profile.db.prepare(
    'SELECT 1 FROM contacts WHERE account_id = ? AND blocked = 1',
  );
  const inBatch = new Set<string>();
  const duplicates: IncomingEnvelope[] = [];
  const echoes: IncomingEnvelope[] = [];
  const decoded: Decoded[] = [];
  const failures: Failure[] = [];

  for (const envelope of envelopes) {
    const seen = inBatch.has(envelope.id) ? 'echo' : alreadyProcessed(envelope.id);
    if (seen === 'processed') duplicates.push(envelope);
    // Another copy of an id this batch handles or the table keeps: its fate is that copy's, so it
    // is acked as a duplicate without being marked processed (which would end the kept copy).
    if (seen === 'echo' || seen === 'kept') echoes.push(envelope);
    if (seen !== undefined) continue;
    inBatch.add(envelope.id);
    const unit = tx.child();
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
      plaintext = await decrypt(profile, unit, sender);
    } catch (error) {
      if (LibSignalErrorBase.is(error, ErrorCode.DuplicatedMessage)) duplicates.push(envelope);
      else if (error instanceof UnknownTypeError) {
        failures.push({ envelope, sender: sender.sender, error: 'UNKNOWN_TYPE', final: true });
      } else
        failures.push({ envelope, sender: sender.sender, error: 'DECRYPT_FAILED', final: false });
      continue;
    }
    try {
      decoded.push({ envelope, sender, content: decodeContent(plaintext) });
      unit.mergeIntoParent();
    } catch {
      failures.push({ envelope, sender: sender.sender, error: 'BAD_CONTENT', final: false });
    }
  }

  return profile.commit(
    tx,
    (db) => {
      const outcomes = commitBatch(db, tx, duplicates, decoded, failures, now);
      // Only a `retry` needs its body kept, and only inner failures (in `failures`) are retried.
      settleUnprocessed(
        db,
        new Map(failures.map((f) => [f.envelope.id, f.envelope])),
        outcomes,
        now,
      );
      if (options.sendReceipts) queueReceipts(db, decoded, outcomes, now, options.receiptDelayMs);
      return [
        ...outcomes,
        ...echoes.map((e): EnvelopeOutcome => ({ envelopeId: e.id, outcome: 'duplicate' })),
      ];
    },
    now,
  );
}

class UnknownTypeError extends Error {}

async function decrypt(
  profile: Profile,
  unit: ProtocolTransaction,
  opened: Opened,
): Promise<Uint8Array> {
  // The address is the certificate's: the sender the seal proved, never a relay's say-so.
  const address = peerAddress(opened.sender, opened.senderDevice);
  switch (opened.type as CiphertextMessageType) {
    case CiphertextMessageType.PreKey:
      return signalDecryptPreKey(
        PreKeySignalMessage.deserialize(opened.body),
        address,
        localAddress(profile),
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
        localAddress(profile),
        unit.sessionStore,
        unit.identityStore,
      );
    default:
      throw new UnknownTypeError();
  }
}
