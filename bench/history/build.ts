import { performance } from 'node:perf_hooks';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { addContact, Profile } from '../../electron/core/index.ts';
import { type ImportedMessage, importMessages } from '../../electron/core/history/bulk-import.ts';
import { newMessageId } from '../../electron/core/messaging/message-id.ts';
import { deriveAccountId } from '../../electron/core/crypto/account-id.ts';
import { BENCH_KDF } from '../support/config.ts';
import { messageBodies, rng } from './corpus.ts';

/** One conversation of the built history. */
export interface BenchConversation {
  readonly conversationId: number;
  readonly accountId: string;
  readonly messages: number;
}

export interface BuiltHistory {
  readonly profile: Profile;
  readonly conversations: readonly BenchConversation[];
  /** Time spent in the bulk-insert transactions and the final conversation update. */
  readonly importMs: number;
  /** Whole build, including text generation and contacts. */
  readonly buildMs: number;
}

const PROGRESS_EVERY = 250_000;
/** Mean gap between two messages of the whole history (strictly increasing sent_at). */
const GAP_MS = 20_000;
const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloé',
  'Dmitri',
  'Emma',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemal',
  'Lena',
  'Mateo',
  'Noor',
  'Olga',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sven',
  'Tomás',
];
const LAST_NAMES = [
  'Ahn',
  'Berg',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Hughes',
  'Ito',
  'Jensen',
];

/** Cumulative Zipf-like weights (s = 0.8): a few busy conversations, a long tail. */
function cumulativeWeights(count: number): number[] {
  const weights = Array.from({ length: count }, (_, k) => 1 / Math.pow(k + 1, 0.8));
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => (sum += w / total));
}

function pickIndex(cumulative: readonly number[], r: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Creates a profile with `conversationCount` contacts (real identity keys and
 * derived account ids, added through addContact), then bulk-inserts `total`
 * messages through the core's bulk import (importMessages), oldest first.
 */
export async function buildHistory(
  dir: string,
  passphrase: string,
  total: number,
  conversationCount: number,
): Promise<BuiltHistory> {
  const buildStart = performance.now();
  const profile = await Profile.create(dir, {
    displayName: 'Bench User',
    passphrase,
    kdfCost: BENCH_KDF,
  });
  const own = profile.account.accountId;
  const contacts = Array.from({ length: conversationCount }, (_, i) => {
    const identity = IdentityKeyPair.generate();
    const name = `${FIRST_NAMES[i % FIRST_NAMES.length]!} ${LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length]!}`;
    const card = {
      accountId: deriveAccountId(identity.publicKey),
      identityKey: identity.publicKey.serialize(),
      displayName: name,
    };
    return addContact(profile, card);
  });

  const random = rng(42);
  const body = messageBodies(7);
  const cumulative = cumulativeWeights(conversationCount);
  const counts = new Array<number>(conversationCount).fill(0);
  const firstSentAt = Date.now() - total * GAP_MS;
  // Generate first (text generation is not import work), then import through the core's bulk path.
  const rows: ImportedMessage[] = new Array<ImportedMessage>(total);
  for (let i = 0; i < total; i++) {
    const index = pickIndex(cumulative, random());
    counts[index]! += 1;
    const contact = contacts[index]!;
    const outgoing = random() < 0.4;
    // Each message owns its own GAP_MS slot: sent_at is unique across all senders.
    const sentAt = firstSentAt + i * GAP_MS + Math.floor(random() * (GAP_MS - 1000));
    rows[i] = {
      uuid: newMessageId(sentAt),
      conversationWith: contact.accountId,
      outgoing,
      senderAccount: outgoing ? own : contact.accountId,
      senderDevice: 1,
      sentAt,
      receivedAt: outgoing ? sentAt : sentAt + 50 + Math.floor(random() * 900),
      body: body(),
      status: outgoing ? 'delivered' : 'received',
    };
  }
  const t = performance.now();
  importMessages(profile, rows, (done) => {
    if (done % PROGRESS_EVERY === 0 && done < total) {
      const rate = Math.round((done / (performance.now() - t)) * 1000).toLocaleString('en-US');
      console.log(`  … ${done.toLocaleString('en-US')} rows, ${rate} msg/s so far`);
    }
  });
  const importMs = performance.now() - t;

  const conversations = contacts.map((c, i) => ({
    conversationId: c.conversationId,
    accountId: c.accountId,
    messages: counts[i]!,
  }));
  return { profile, conversations, importMs, buildMs: performance.now() - buildStart };
}
