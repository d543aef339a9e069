import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SottoError } from '../../errors.ts';
import { fsyncDirectory } from '../../fs-atomic.ts';
import type { Profile } from '../../profile/profile.ts';
import { AgeFileWriter } from '../age/file.ts';
import { assertStrongPassphrase } from '../passphrase.ts';
import { type BackupRunOptions, throwIfCancelled } from '../progress.ts';
import type { Sql } from '../../db/sqlite.ts';
import { type ExportSection, groupSections } from './group-sections.ts';
import { type ReadableFormat, rendererFor } from './render.ts';
import { archivePageName, ExportFiles } from './export-files.ts';
import { TAR_END, tarFileHeader, tarPadding } from './tar-entries.ts';

/** Options for `exportConversation`. */
export interface ExportConversationOptions extends BackupRunOptions {
  /** The contact's account id, or 'all' for every conversation (groups included). */
  readonly conversation: string;
  /** Only this group (base64 id); `conversation` is then ignored. */
  readonly group?: string;
  readonly format: ReadableFormat;
  /** Only messages sent at or after this time (ms since epoch). */
  readonly from?: number;
  /** Only messages sent at or before this time (ms since epoch). */
  readonly to?: number;
  /** If set, the output is an age file under this passphrase (strength-checked, as for backups). */
  readonly encryptWith?: string;
  /**
   * HTML only, on by default: stored attachments are written beside the page
   * (`chat.html` → `chat_files/`) and linked from their messages; with
   * `encryptWith`, page and files are one tar archive inside the age file.
   */
  readonly attachments?: boolean;
  /** scrypt work factor when encrypting; tests only. */
  readonly scryptLogN?: number;
}

/** What a readable export wrote. */
export interface ConversationExportReport {
  readonly file: string;
  readonly conversations: number;
  readonly messages: number;
}

interface Sink {
  write(text: string | Buffer): Promise<void>;
  commit(): Promise<unknown>;
  abort(): Promise<void>;
}

const PAGE = 2000;

/**
 * Writes one conversation (or all) as a readable document: a self-contained
 * HTML page, JSON, or Markdown, optionally limited to a date range and
 * optionally age-encrypted. Streams page by page; the file appears only when
 * complete (temporary file, then rename).
 */
export async function exportConversation(
  profile: Profile,
  file: string,
  options: ExportConversationOptions,
): Promise<ConversationExportReport> {
  profile.assertUsable();
  if (options.encryptWith !== undefined) await assertStrongPassphrase(options.encryptWith);
  const db = profile.db;
  const own = profile.account;
  const sections = [
    ...(options.group === undefined
      ? contactSections(db, options.conversation, own.displayName)
      : []),
    ...(options.conversation === 'all' || options.group !== undefined
      ? groupSections(db, options.group ?? 'all', own.displayName)
      : []),
  ];
  if (options.group !== undefined && sections.length === 0) throw new SottoError('UNKNOWN_GROUP');
  const from = options.from ?? 0;
  const to = options.to ?? Number.MAX_SAFE_INTEGER;
  const total = sections.reduce((sum, s) => sum + s.count(from, to), 0);
  const render = rendererFor(options.format);
  const archive = options.encryptWith !== undefined;
  const files =
    options.format === 'html' && options.attachments !== false
      ? new ExportFiles(profile, file, archive ? 'archive' : 'folder')
      : undefined;
  const sink =
    options.encryptWith !== undefined
      ? await ageSink(file, options.encryptWith, options.scryptLogN)
      : await plainSink(file);
  const exportedAt = Date.now();
  let written = 0;
  /** Renders the whole document into `write` (twice for an archive: to measure the page, then to write it). */
  const document = async (write: (text: string) => Promise<void>, progress: boolean) => {
    await write(
      render.begin({
        ownName: own.displayName,
        ownAccountId: own.accountId,
        exportedAt,
        from: options.from,
        to: options.to,
      }),
    );
    for (const [index, section] of sections.entries()) {
      await write(render.conversation(section.heading, index === 0));
      let cursor = { sentAt: -1, id: 0 };
      let first = true;
      for (;;) {
        throwIfCancelled(options.signal);
        const rows = section.page(from, to, cursor, PAGE);
        if (rows.length === 0) break;
        const attached = files
          ? await files.of(
              rows.map((r) => r.id),
              section.heading.group === true,
            )
          : undefined;
        let text = '';
        for (const r of rows) {
          text += render.message({ ...r, files: attached?.get(r.id) ?? [] }, first);
          first = false;
        }
        await write(text);
        const last = rows.at(-1)!;
        cursor = { sentAt: last.sentAt, id: last.id };
        if (!progress) continue;
        written += rows.length;
        options.onProgress?.({ phase: 'export', done: written, total, unit: 'records' });
      }
      await write(render.endConversation());
    }
    await write(render.end());
  };
  try {
    // Encrypted with files, the age file holds a tar of the page and its folder. A tar entry
    // states its size first: the page is rendered once to measure it (and find its files).
    let pageBytes = 0;
    const measure = (text: string) => {
      pageBytes += Buffer.byteLength(text, 'utf8');
      return Promise.resolve();
    };
    if (archive && files) await document(measure, false);
    if (archive && files?.collectedAny) {
      files.reset();
      await sink.write(tarFileHeader(archivePageName(file), pageBytes, exportedAt));
      await document((text) => sink.write(text), true);
      await sink.write(tarPadding(pageBytes));
      await files.writeArchive((bytes) => sink.write(bytes), exportedAt);
      await sink.write(TAR_END);
    } else {
      // No file to carry: the age file holds the page alone, as without attachments.
      files?.reset();
      await document((text) => sink.write(text), true);
    }
    await sink.commit();
    files?.commit();
    return { file, conversations: sections.length, messages: written };
  } catch (error) {
    await sink.abort();
    files?.abort();
    throw error;
  }
}

/** The 1:1 conversations to export: every one (`'all'`), or the contact with account id `which`. */
function contactSections(db: Sql, which: string, ownName: string): ExportSection[] {
  const where = which === 'all' ? '' : 'WHERE k.account_id = ?';
  const conversations = db
    .prepare(
      `SELECT c.id, k.account_id AS accountId, coalesce(k.display_name, k.account_id) AS name
       FROM conversations c JOIN contacts k ON k.id = c.contact_id ${where} ORDER BY name COLLATE NOCASE, k.account_id`,
    )
    .all<{ id: number; accountId: string; name: string }>(which === 'all' ? [] : [which]);
  if (which !== 'all' && conversations.length === 0) throw new SottoError('UNKNOWN_CONTACT');
  const count = db.prepare(
    'SELECT count(*) FROM messages WHERE conversation_id = ? AND sent_at BETWEEN ? AND ?',
    { pluck: true },
  );
  const page = db.prepare(
    `SELECT id, uuid, outgoing, sent_at AS sentAt, body, status FROM messages
     WHERE conversation_id = ? AND sent_at BETWEEN ? AND ? AND (sent_at, id) > (?, ?)
     ORDER BY sent_at, id LIMIT ?`,
  );
  return conversations.map((c) => ({
    heading: { accountId: c.accountId, name: c.name },
    count: (from, to) => Number(count.get([c.id, from, to])),
    page: (from, to, cursor, limit) =>
      page
        .all<{
          id: number;
          uuid: string;
          outgoing: number;
          sentAt: number;
          body: string;
          status: string;
        }>([c.id, from, to, cursor.sentAt, cursor.id, limit])
        .map((r) => ({
          ...r,
          outgoing: r.outgoing === 1,
          senderName: r.outgoing === 1 ? ownName : c.name,
        })),
  }));
}

async function ageSink(file: string, passphrase: string, scryptLogN?: number): Promise<Sink> {
  const age = await AgeFileWriter.create(
    file,
    passphrase,
    scryptLogN === undefined ? {} : { scryptLogN },
  );
  return {
    write: (text) => age.write(typeof text === 'string' ? Buffer.from(text, 'utf8') : text),
    commit: () => age.commit(),
    abort: () => age.abort(),
  };
}

async function plainSink(file: string): Promise<Sink> {
  const temp = join(
    dirname(file),
    `.${basename(file)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const handle: FileHandle = await open(temp, 'wx', 0o600);
  return {
    // writeFile writes all of it from the current position (a plain write may stop short).
    write: (text) => handle.writeFile(text),
    commit: async () => {
      await handle.sync();
      await handle.close();
      await rename(temp, file);
      fsyncDirectory(dirname(file));
    },
    abort: async () => {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
    },
  };
}
