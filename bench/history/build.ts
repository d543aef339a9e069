import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { addContact, Profile } from '../../electron/core/index.ts';
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

const CHUNK = 5000;
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

type Row = [string, number, number, string, number, number, number, string, string];

/**
 * Creates a profile with `conversationCount` contacts (real identity keys and
 * derived account ids, added through addContact), then bulk-inserts `total`
 * messages with SQL in transactions of 5,000 rows, oldest first, and sets each
 * conversation's last_message_at.
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
  const insert = profile.db.prepare(
    `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const firstSentAt = Date.now() - total * GAP_MS;
  let importMs = 0;
  const rows: Row[] = [];
  const writeChunk = profile.db.transaction(() => {
    for (const row of rows) insert.run(row);
  });

  for (let start = 0; start < total; start += CHUNK) {
    rows.length = 0;
    for (let i = start; i < Math.min(total, start + CHUNK); i++) {
      const index = pickIndex(cumulative, random());
      counts[index]! += 1;
      const contact = contacts[index]!;
      const outgoing = random() < 0.4;
      // Each message owns its own GAP_MS slot: sent_at is unique across all senders.
      const sentAt = firstSentAt + i * GAP_MS + Math.floor(random() * (GAP_MS - 1000));
      const receivedAt = outgoing ? sentAt : sentAt + 50 + Math.floor(random() * 900);
      rows.push([
        randomUUID(),
        contact.conversationId,
        outgoing ? 1 : 0,
        outgoing ? own : contact.accountId,
        1,
        sentAt,
        receivedAt,
        body(),
        outgoing ? 'delivered' : 'received',
      ]);
    }
    const t = performance.now();
    writeChunk();
    importMs += performance.now() - t;
    const done = Math.min(total, start + CHUNK);
    if (done % PROGRESS_EVERY === 0 && done < total) {
      console.log(
        `  … ${done.toLocaleString('en-US')} rows, ${Math.round((done / importMs) * 1000).toLocaleString('en-US')} msg/s so far`,
      );
    }
  }

  const t = performance.now();
  profile.db
    .prepare(
      'UPDATE conversations SET last_message_at = (SELECT max(sent_at) FROM messages m WHERE m.conversation_id = conversations.id)',
    )
    .run();
  importMs += performance.now() - t;

  const conversations = contacts.map((c, i) => ({
    conversationId: c.conversationId,
    accountId: c.accountId,
    messages: counts[i]!,
  }));
  return { profile, conversations, importMs, buildMs: performance.now() - buildStart };
}
