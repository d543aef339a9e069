import { SottoError } from '../errors.ts';
import { schemaVersion } from '../db/migrate.ts';
import type { Profile } from '../profile/profile.ts';
import { AgeFileWriter } from './age/file.ts';
import { BACKUP_FORMAT, BACKUP_VERSION, type RecordCounts } from './format/record-order.ts';
import type { BackupManifest, BackupManifestIn } from './format/records.ts';
import { RecordWriter } from './format/writer.ts';
import { assertStrongPassphrase } from './passphrase.ts';
import { type BackupRunOptions, throwIfCancelled } from './progress.ts';
import { MessageBlockReader } from './message-blocks.ts';
import { releaseBuffers } from './release.ts';
import { readGroupMessageRecords, readGroupRecords } from './group-records.ts';
import { readSmallRecords } from './snapshot.ts';
import { readDeletedRecords } from './deleted-records.ts';
import { planAttachments, writeAttachments } from './attachment-export.ts';

/** Worker threads reading message lines (see message-blocks.ts). */
const MESSAGE_READERS = 2;

/** Options for `exportBackup`. */
export interface ExportBackupOptions extends BackupRunOptions {
  /** The backup passphrase (or a recovery key): must score ≥ 3 with zxcvbn, else WEAK_PASSPHRASE. */
  readonly passphrase: string;
  /** Recorded in the manifest (informational). */
  readonly appVersion?: string;
  /** scrypt work factor; default 18 (age's). Lower it only in tests and benchmarks. */
  readonly scryptLogN?: number;
}

/** What an export wrote. */
export interface ExportReport {
  readonly file: string;
  readonly bytes: number;
  readonly manifest: BackupManifest;
}

/**
 * Writes an encrypted backup of the whole profile to `file` (a standard age
 * v1 file, docs/backup-format.md): streamed in constant memory, written to a
 * temporary file that replaces `file` only when complete. Cancelling (the
 * signal) rejects with CANCELLED and leaves no file behind.
 *
 * It holds every message stored when it started; contacts, keys and settings
 * are read at that moment too, and so is the list of attachments, whose
 * files are written last (attachment-export.ts). Session ratchets are not included.
 */
export async function exportBackup(
  profile: Profile,
  file: string,
  options: ExportBackupOptions,
): Promise<ExportReport> {
  profile.assertUsable();
  await assertStrongPassphrase(options.passphrase);
  throwIfCancelled(options.signal);
  const db = profile.db;
  const small = readSmallRecords(db);
  const groups = readGroupRecords(db);
  const groupMessages = readGroupMessageRecords(db);
  const deleted = readDeletedRecords(db);
  const attachments = planAttachments(db);
  // Messages are read on their own connections and threads. Opening them (and counting the
  // history) and then sealing the whole stream run alongside the scrypt derivation of the
  // header (AgeFileWriter writes the header last, into a gap of its fixed length).
  const [messages, age] = await both(
    profile.openReadConnection((database, key) =>
      MessageBlockReader.open(database, key, MESSAGE_READERS),
    ),
    AgeFileWriter.create(file, options.passphrase, { scryptLogN: options.scryptLogN }),
    (reader) => reader.close(),
    (writer) => writer.abort(),
  );
  const range = messages.range;
  const counts: RecordCounts = {
    account: 1,
    key: small.keys.length,
    keyUse: small.keyUses.length,
    keyCounter: small.keyCounters.length,
    setting: small.settings.length,
    contact: small.contacts.length,
    conversation: small.conversations.length,
    message: range.count,
    group: groups.length,
    groupMessage: groupMessages.length,
    deletedMessage: deleted.length,
    attachment: attachments.ids.length,
    attachmentData: attachments.dataRecords,
  };
  const manifest: BackupManifestIn = {
    type: 'manifest',
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    app: { name: 'sotto', version: options.appVersion ?? 'unknown' },
    createdAt: Date.now(),
    accountId: small.account.accountId,
    schemaVersion: schemaVersion(db),
    counts,
  };
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const report = (done: number) =>
    options.onProgress?.({ phase: 'export', done, total, unit: 'records' });

  try {
    const out = new RecordWriter(age);
    await out.manifest(manifest);
    await out.record('account', small.account);
    for (const r of small.keys) await out.record('key', r);
    for (const r of small.keyUses) await out.record('keyUse', r);
    for (const r of small.keyCounters) await out.record('keyCounter', r);
    for (const r of small.settings) await out.record('setting', r);
    for (const r of small.contacts) await out.record('contact', r);
    for (const r of small.conversations) await out.record('conversation', r);
    const later =
      groups.length +
      groupMessages.length +
      deleted.length +
      counts.attachment +
      counts.attachmentData;
    let written = total - range.count - later;
    report(written);
    for (let block = await messages.next(); block; block = await messages.next()) {
      throwIfCancelled(options.signal);
      profile.assertUsable();
      await out.lines('message', block.bytes, block.count);
      // Hashed and sealed (the sealer copies what it keeps): free it now, not at the next major GC.
      releaseBuffers([block.bytes]);
      written += block.count;
      report(written);
    }
    for (const r of groups) await out.record('group', r);
    for (const r of groupMessages) await out.record('groupMessage', r);
    for (const r of deleted) await out.record('deletedMessage', r);
    await writeAttachments(profile, out, attachments, options.signal);
    report(written + later);
    throwIfCancelled(options.signal);
    // A message deleted mid-export would make the counts lie (its attachments fail above).
    if (out.counts.message !== range.count || out.counts.attachmentData !== counts.attachmentData)
      throw new SottoError('INTERNAL', 'history changed during export');
    await out.finish();
    const bytes = await age.commit();
    return { file, bytes, manifest: manifest as BackupManifest };
  } catch (error) {
    await age.abort();
    throw error;
  } finally {
    await messages.close();
  }
}

/** Awaits two operations; if either fails, undoes the other (when it succeeded) and rethrows. */
async function both<A, B>(
  a: Promise<A>,
  b: Promise<B>,
  undoA: (a: A) => Promise<void>,
  undoB: (b: B) => Promise<void>,
): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  if (ra.status === 'fulfilled') await undoA(ra.value);
  if (rb.status === 'fulfilled') await undoB(rb.value);
  throw ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason;
}
