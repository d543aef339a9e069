import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { IdentityKeyPair, PublicKey } from '@signalapp/libsignal-client';
import {
  addContact,
  exportBackup,
  importBackup,
  markVerified,
  Profile,
} from '../../electron/core/index.ts';
import { AgeFileReader, AgeFileWriter } from '../../electron/core/backup/age/file.ts';
import { CHUNK } from '../../electron/core/backup/age/payload.ts';
import { deriveAccountId } from '../../electron/core/crypto/account-id.ts';
import { ACCOUNT_ID_DOMAIN } from '../../shared/protocol/account-id.ts';
import { toBase32 } from '../../shared/protocol/encoding.ts';
import type { Sql } from '../../electron/core/db/sqlite.ts';
import { type ImportedMessage, importMessages } from '../../electron/core/history/bulk-import.ts';
import { newMessageId } from '../../electron/core/messaging/message-id.ts';
import { runCli } from './cli.ts';
import { afterTest } from './engines.ts';
import { TEST_KDF, tempDir } from './profiles.ts';

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
  options: {
    contacts?: number;
    extraPeers?: readonly string[];
    startAt?: number;
    seed?: number;
  } = {},
): string[] {
  const peers = [...(options.extraPeers ?? [])];
  for (let i = 0; i < (options.contacts ?? 10); i++) {
    const identity = IdentityKeyPair.generate();
    const accountId = deriveAccountId(identity.publicKey);
    addContact(profile, {
      accountId,
      identityKey: identity.publicKey.serialize(),
      displayName: `Contact ${i} <${i}>`,
    });
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

/**
 * Digests of everything a backup promises to carry, independent of row ids.
 * `version: 1`: only what a version 1 backup carries (no delivery tokens,
 * relay ids or blocked flags: docs/backup-format.md#versions).
 */
export function profileDigests(db: Sql, options: { version?: 1 | 2 } = {}) {
  const v2 = (options.version ?? 2) === 2;
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
          `SELECT k.account_id, k.display_name, k.relay, hex(i.public_key) AS key, i.trust, i.verified,
                  ${v2 ? 'k.relay_id, hex(k.delivery_token) AS token, k.token_sent_at, k.blocked' : 'NULL'}
           FROM contacts k LEFT JOIN identities i ON i.account_id = k.account_id ORDER BY k.account_id`,
        )
        .all(),
    ),
    verified: Number(
      db.prepare('SELECT count(*) FROM identities WHERE verified = 1', { pluck: true }).get(),
    ),
    conversations: sha256(
      db
        .prepare(
          `SELECT k.account_id, c.last_message_at, c.unread_count, c.identity_changed, c.draft
           FROM conversations c JOIN contacts k ON k.id = c.contact_id ORDER BY k.account_id`,
        )
        .all(),
    ),
    // Where our keys and token were published is redone after a restore (docs/backup-format.md#after-a-restore-sessions).
    settings: sha256(
      db
        .prepare(
          `SELECT key, value FROM settings WHERE key NOT IN ('keys.publishedTo', 'delivery.tokenRegisteredWith'
           ${v2 ? '' : ", 'delivery.token', 'relay.id'"}) ORDER BY key`,
        )
        .all(),
    ),
    account: sha256(
      db
        .prepare(
          'SELECT account_id, display_name, registration_id, hex(identity_key_pair) FROM account',
        )
        .all(),
    ),
  };
}

/** Opens a profile, takes its digests, closes it. */
export async function digestsOf(
  dir: string,
  passphrase: string,
  options: { version?: 1 | 2 } = {},
) {
  const profile = await Profile.open(dir, { passphrase });
  try {
    return profileDigests(profile.db, options);
  } finally {
    await profile.close();
  }
}

/** Runs the CLI with the backup passphrase in the environment; fails with stderr unless it exits 0. */
export async function backupCli(
  profileDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const result = await runCli(profileDir, args, {
    env: { SOTTO_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE, ...env },
  });
  if (result.code !== 0)
    throw new Error(`sotto ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** The lines of a backup's inner stream from the manifest up to (not including) the trailer, split on `\n` only. */
export async function readBackupLines(
  file: string,
  passphrase = BACKUP_PASSPHRASE,
): Promise<string[]> {
  const reader = await AgeFileReader.open(file, passphrase);
  const parts: Buffer[] = [];
  try {
    for (let chunk = await reader.next(); chunk; chunk = await reader.next()) parts.push(chunk);
  } finally {
    await reader.close();
  }
  const lines = Buffer.concat(parts).toString('utf8').split('\n');
  return lines.slice(
    0,
    lines.findIndex((line) => line.startsWith('{"type":"trailer"')),
  );
}

/**
 * Writes `lines` (manifest first, then data records, as raw JSON text) as a
 * backup the way docs/backup-format.md describes it, independently of the
 * product's record writer: the trailer's counts and hash are computed here,
 * then newline padding to a whole chunk. The manifest's counts are the
 * caller's (so a test can make them lie).
 */
export async function writeBackupLines(
  file: string,
  lines: readonly string[],
  passphrase = BACKUP_PASSPHRASE,
): Promise<void> {
  const counts: Record<string, number> = {
    account: 0,
    key: 0,
    keyUse: 0,
    keyCounter: 0,
    setting: 0,
    contact: 0,
    conversation: 0,
    message: 0,
  };
  // Later types are counted only when present (a version 2 file written before them has none).
  for (const type of ['group', 'groupMessage', 'deletedMessage', 'attachment', 'attachmentData'])
    if (lines.some((line) => line.startsWith(`{"type":"${type}"`))) counts[type] = 0;
  for (const line of lines.slice(1)) {
    const type = /^\{"type":"([A-Za-z]+)"/.exec(line)?.[1];
    if (type !== undefined && type in counts) counts[type]! += 1;
  }
  const body = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
  const trailer = Buffer.from(
    `${JSON.stringify({ type: 'trailer', counts, sha256: createHash('sha256').update(body).digest('hex') })}\n`,
  );
  const used = (body.length + trailer.length) % CHUNK;
  const padding = Buffer.alloc(used === 0 ? 0 : CHUNK - used, 0x0a);
  const writer = await AgeFileWriter.create(file, passphrase, { scryptLogN: TEST_SCRYPT_LOG_N });
  await writer.write(Buffer.concat([body, trailer, padding]));
  await writer.commit();
}

/** Re-writes a backup with each parsed record passed through `edit` (which returns it, changed or not). */
export async function rewriteBackup(
  from: string,
  to: string,
  edit: (record: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  const lines = await readBackupLines(from);
  await writeBackupLines(
    to,
    lines.map((line) => JSON.stringify(edit(JSON.parse(line) as Record<string, unknown>))),
  );
}

/** The first-format (before relay protocol v2) account id of an identity key: base32 of 20 bytes of the digest. */
export function legacyAccountId(identityKey: Uint8Array): string {
  return toBase32(
    createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(identityKey).digest().subarray(0, 20),
  );
}

/** The members each record type gained in version 2. */
const VERSION_2_MEMBERS: Record<string, readonly string[]> = {
  account: ['deliveryToken', 'relayId'],
  key: ['state', 'supersededAt', 'handedOutAt'],
  contact: ['relayId', 'deliveryToken', 'tokenSentAt', 'blocked', 'move'],
};

/**
 * Turns a current backup into one written before relay protocol v2: inner
 * version 1, and every account id (manifest, account, contacts,
 * conversations, messages' peers and senders) in the first, base32 format,
 * derived from the identity keys the backup itself carries.
 */
export async function writeLegacyBackup(from: string, to: string): Promise<Map<string, string>> {
  const lines = await readBackupLines(from);
  const legacy = new Map<string, string>();
  for (const line of lines) {
    const record = JSON.parse(line) as {
      type: string;
      accountId?: string;
      identityKeyPair?: string;
      identity?: { publicKey: string } | null;
    };
    if (record.type === 'account') {
      const pair = IdentityKeyPair.deserialize(Buffer.from(record.identityKeyPair!, 'base64'));
      legacy.set(record.accountId!, legacyAccountId(pair.publicKey.serialize()));
    }
    if (record.type === 'contact' && record.identity) {
      legacy.set(
        record.accountId!,
        legacyAccountId(
          PublicKey.deserialize(Buffer.from(record.identity.publicKey, 'base64')).serialize(),
        ),
      );
    }
  }
  const old = (id: unknown) => {
    const mapped = legacy.get(String(id));
    if (mapped === undefined) throw new Error('an account id without a key in the backup');
    return mapped;
  };
  await writeBackupLines(
    to,
    lines.map((line) => {
      const r = JSON.parse(line) as Record<string, unknown>;
      if (r['type'] === 'manifest')
        Object.assign(r, { version: 1, accountId: old(r['accountId']) });
      // Members version 2 added (docs/backup-format.md#versions): a version 1 file has none of them.
      for (const member of VERSION_2_MEMBERS[String(r['type'])] ?? []) delete r[member];
      delete r['mutedUntil']; // version 4's (mutes): the conversation's and group's
      if (r['type'] === 'account' || r['type'] === 'contact') r['accountId'] = old(r['accountId']);
      if (r['type'] === 'conversation') r['with'] = old(r['with']);
      if (r['type'] === 'message')
        Object.assign(r, { with: old(r['with']), senderAccount: old(r['senderAccount']) });
      return JSON.stringify(r);
    }),
  );
  return legacy;
}

/**
 * A profile moved to a new machine through a backup: exported, its engine and
 * profile closed, imported into a new folder under `passphrase` and opened
 * (closed after the test).
 */
export async function restoredElsewhere(
  from: { readonly profile: Profile; readonly engine: { close(): Promise<void> } },
  passphrase = 'restored passphrase',
): Promise<{ dir: string; profile: Profile }> {
  const backup = join(tempDir(), 'moved.age');
  await exportBackup(from.profile, backup, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  await from.engine.close();
  await from.profile.close();
  const dir = join(tempDir(), 'restored');
  await importBackup(dir, backup, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase, kdfCost: TEST_KDF },
  });
  const profile = await Profile.open(dir, { passphrase });
  afterTest(() => profile.close());
  return { dir, profile };
}
