import { createHash } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { addContact, markVerified, Profile } from '../../electron/core/index.ts';
import { deriveAccountId } from '../../electron/core/crypto/account-id.ts';
import type { Sql } from '../../electron/core/db/sqlite.ts';
import { type ImportedMessage, importMessages } from '../../electron/core/history/bulk-import.ts';
import { newMessageId } from '../../electron/core/messaging/message-id.ts';
import { runCli } from './cli.ts';

/** A backup passphrase zxcvbn accepts. */
export const BACKUP_PASSPHRASE = 'quiet harbour lanterns 1987 orbit';
/**
 * scrypt work factor for tests (age's default 18 costs 256 MiB and a second
 * per file). Passed explicitly; nothing lowers the product default.
 */
export const TEST_SCRYPT_LOG_N = 10;

/** Bodies that exercise escaping and Unicode: HTML, quotes, newlines, CJK, emoji. */
const BODIES = [
  'See you at <b>8</b> & bring "snacks"',
  'line one\nline two\ttabbed',
  '明天见 — おはよう 🌅',
  "it's a \\ backslash and a </script> tag",
  'plain text message number',
];

/**
 * Gives `profile` `contacts` extra contacts (real identity keys, every third
 * one verified) and `total` messages spread over them and `extraPeers`,
 * through the core's bulk import. Returns the messages' conversations.
 */
export function addHistory(
  profile: Profile,
  total: number,
  options: { contacts?: number; extraPeers?: readonly string[]; startAt?: number; seed?: number } = {},
): string[] {
  const peers = [...(options.extraPeers ?? [])];
  for (let i = 0; i < (options.contacts ?? 10); i++) {
    const identity = IdentityKeyPair.generate();
    const accountId = deriveAccountId(identity.publicKey);
    addContact(profile, { accountId, identityKey: identity.publicKey.serialize(), displayName: `Contact ${i} <${i}>` });
    if (i % 3 === 0) markVerified(profile, accountId);
    peers.push(accountId);
  }
  const own = profile.account.accountId;
  const start = options.startAt ?? Date.now() - total * 1000 - 60_000;
  const seed = options.seed ?? 0;
  const rows: ImportedMessage[] = [];
  for (let i = 0; i < total; i++) {
    const peer = peers[(i * 7 + seed) % peers.length]!;
    const outgoing = (i + seed) % 3 === 0;
    const sentAt = start + i * 1000;
    rows.push({
      uuid: newMessageId(sentAt),
      conversationWith: peer,
      outgoing,
      senderAccount: outgoing ? own : peer,
      senderDevice: 1,
      sentAt,
      receivedAt: sentAt + 10,
      body: `${BODIES[i % BODIES.length]!} ${seed}:${i}`,
      status: outgoing ? 'delivered' : 'received',
    });
  }
  importMessages(profile, rows);
  return peers;
}

function sha256(rows: readonly unknown[]): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
  return hash.digest('hex');
}

/** Digests of everything a backup promises to carry, independent of row ids. */
export function profileDigests(db: Sql) {
  return {
    messageCount: Number(db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()),
    messages: sha256(
      db
        .prepare(
          `SELECT m.uuid, k.account_id, m.outgoing, m.sender_account, m.sender_device, m.sent_at, m.received_at, m.body, m.status
           FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id ORDER BY m.uuid`,
        )
        .all(),
    ),
    contacts: sha256(
      db
        .prepare(
          `SELECT k.account_id, k.display_name, k.relay, hex(i.public_key) AS key, i.trust, i.verified
           FROM contacts k LEFT JOIN identities i ON i.account_id = k.account_id ORDER BY k.account_id`,
        )
        .all(),
    ),
    verified: Number(db.prepare('SELECT count(*) FROM identities WHERE verified = 1', { pluck: true }).get()),
    conversations: sha256(
      db
        .prepare(
          `SELECT k.account_id, c.last_message_at, c.unread_count, c.identity_changed, c.draft
           FROM conversations c JOIN contacts k ON k.id = c.contact_id ORDER BY k.account_id`,
        )
        .all(),
    ),
    settings: sha256(db.prepare("SELECT key, value FROM settings WHERE key <> 'keys.publishedTo' ORDER BY key").all()),
    account: sha256(db.prepare('SELECT account_id, display_name, registration_id, hex(identity_key_pair) FROM account').all()),
  };
}

/** Opens a profile, takes its digests, closes it. */
export async function digestsOf(dir: string, passphrase: string) {
  const profile = await Profile.open(dir, { passphrase });
  try {
    return profileDigests(profile.db);
  } finally {
    await profile.close();
  }
}

/** Runs the CLI with the backup passphrase in the environment; fails with stderr unless it exits 0. */
export async function backupCli(profileDir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await runCli(profileDir, args, { env: { SOTTO_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE, ...env } });
  if (result.code !== 0) throw new Error(`sotto ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
