import { createHash } from 'node:crypto';
import { SottoError } from '../../errors.ts';
import type { AgeFileReader } from '../age/file.ts';
import { AttachmentStreamCheck } from './attachment-records.ts';
import { DELETION_VERSION } from './deletion-records.ts';
import {
  ATTACHMENT_TYPES,
  ATTACHMENT_VERSION,
  type CountedType,
  emptyCounts,
  isReadableVersion,
  manifestHeadSchema,
  RECORD_ORDER,
  type RecordCounts,
  type RecordType,
  trailerSchema,
} from './record-order.ts';
import {
  type BackupManifest,
  type DataRecord,
  parseDataRecord,
  parseManifestRecord,
} from './records.ts';
import { parseStrictJson, StrictJsonError } from './strict-json.ts';

/** How to read the inner stream. */
export interface ReadOptions {
  /**
   * Parse and validate every record (and hand them to `onRecords`). Without
   * it only the manifest and trailer are parsed; the rest is authenticated,
   * hashed and counted by type.
   */
  readonly deep?: boolean;
  /** Called once with the manifest, before any other record; may throw to stop early. */
  readonly onManifest?: (manifest: BackupManifest) => void | Promise<void>;
  /** Called with each batch of validated records, in file order (deep reads only). */
  readonly onRecords?: (records: readonly DataRecord[]) => void | Promise<void>;
  /** Called after each chunk with the file bytes consumed so far. */
  readonly onChunk?: (bytesRead: number) => void;
  readonly signal?: AbortSignal;
}

/** What a complete, authenticated read found. */
export interface ReadResult {
  readonly manifest: BackupManifest;
  readonly counts: RecordCounts;
}

const TYPE_PREFIX = Buffer.from('{"type":"', 'latin1');
const NEWLINE = 0x0a;
/** Bytes of one line held while its newline has not come: 2 MiB. */
const MAX_PENDING_LINE = 1 << 21;
// A file's data records follow its attachment record, so both types share one rank.
const RANK = new Map<string, number>(
  RECORD_ORDER.map((t, i) => [t, t === 'attachmentData' ? i - 1 : i]),
);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const tampered = (detail: string) => new SottoError('BACKUP_TAMPERED', detail);

/**
 * Reads the inner stream of an opened age file to its end, checking what the
 * format promises: a manifest of a known version first, records in order, a
 * trailer whose counts match the manifest's and the records', and whose
 * SHA-256 matches every byte before it, then only newline padding.
 */
export async function readRecords(
  age: AgeFileReader,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const hash = createHash('sha256');
  const counts = emptyCounts();
  let manifest: BackupManifest | undefined;
  let trailerSeen = false;
  let rank = -1;
  let carry: Buffer = Buffer.alloc(0);
  /** `{"type":"<t>",` of the last data record, and t. */
  let run: (Buffer & { type: CountedType }) | undefined;
  let attachments: AttachmentStreamCheck | undefined;
  /** Parses a record (deep reads) and feeds the attachment rules. */
  const deepRecord = (type: CountedType, line: unknown): DataRecord => {
    const record = parseRecord(manifest!, type, line);
    attachments ??= new AttachmentStreamCheck(
      manifest!.counts.attachment > 0 || manifest!.counts.attachmentData > 0,
    );
    if (record.type === 'message' || record.type === 'groupMessage')
      attachments.message(record.uuid);
    else if (record.type === 'attachment') attachments.attachment(record);
    else if (record.type === 'attachmentData') attachments.data(record);
    return record;
  };

  for (let chunk = await age.next(); chunk; chunk = await age.next()) {
    if (options.signal?.aborted) throw new SottoError('CANCELLED');
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    if (trailerSeen) {
      if (!isPadding(data, 0)) throw tampered('data after the trailer');
      carry = Buffer.alloc(0);
      options.onChunk?.(age.bytesRead);
      continue;
    }
    const last = data.lastIndexOf(NEWLINE);
    const complete = last < 0 ? 0 : last + 1;
    carry = Buffer.from(data.subarray(complete));
    // No valid record comes near this (docs/backup-format.md): a line without end is not held in memory.
    if (carry.length > MAX_PENDING_LINE) throw tampered('record too long');
    const batch: DataRecord[] = [];
    let start = 0;
    let hashedTo = 0;
    while (start < complete) {
      const end = data.indexOf(NEWLINE, start);
      // Records come in runs of one type: a line that starts like the last one is of its type.
      if (
        run &&
        end - start > run.length &&
        data.compare(run, 0, run.length, start, start + run.length) === 0
      ) {
        counts[run.type] += 1;
        if (options.deep) batch.push(deepRecord(run.type, lineAt(data, start, end)));
        start = end + 1;
        continue;
      }
      const type = typeOf(data, start, end);
      const r = RANK.get(type);
      if (r === undefined || r < rank) throw tampered('record out of order');
      if (manifest === undefined && type !== 'manifest') throw tampered('no manifest');
      if (manifest !== undefined && type === 'manifest') throw tampered('second manifest');
      if (
        manifest !== undefined &&
        manifest.version < ATTACHMENT_VERSION &&
        ATTACHMENT_TYPES.includes(type as CountedType)
      )
        throw tampered('attachment record before version 3');
      if (
        manifest !== undefined &&
        manifest.version < DELETION_VERSION &&
        type === 'deletedMessage'
      )
        throw tampered('deletedMessage record before version 5');
      rank = r;
      if (type === 'manifest') {
        manifest = parseManifest(lineAt(data, start, end));
        await options.onManifest?.(manifest);
      } else if (type === 'trailer') {
        attachments?.complete();
        hash.update(data.subarray(hashedTo, start));
        hashedTo = end + 1;
        checkTrailer(lineAt(data, start, end), hash.digest('hex'), counts, manifest!);
        if (!isPadding(data, end + 1)) throw tampered('data after the trailer');
        trailerSeen = true;
        carry = Buffer.alloc(0);
        break;
      } else {
        counts[type as CountedType] += 1;
        if (options.deep) batch.push(deepRecord(type as CountedType, lineAt(data, start, end)));
        run = Object.assign(Buffer.from(`{"type":"${type}",`, 'latin1'), {
          type: type as CountedType,
        });
      }
      start = end + 1;
    }
    if (!trailerSeen) hash.update(data.subarray(hashedTo, complete));
    if (batch.length > 0) await options.onRecords?.(batch);
    options.onChunk?.(age.bytesRead);
  }
  if (!trailerSeen) throw new SottoError('BACKUP_TRUNCATED', 'no trailer');
  if (carry.length > 0 && !isPadding(carry, 0)) throw tampered('data after the trailer');
  return { manifest: manifest!, counts };
}

/** The record type named at the start of a line (`{"type":"…"`), or '' if it does not start so. */
function typeOf(data: Buffer, start: number, end: number): RecordType | '' {
  if (
    end - start < TYPE_PREFIX.length + 2 ||
    data.compare(TYPE_PREFIX, 0, TYPE_PREFIX.length, start, start + TYPE_PREFIX.length) !== 0
  ) {
    throw tampered('record without a leading type');
  }
  const from = start + TYPE_PREFIX.length;
  const quote = data.indexOf(0x22, from);
  if (quote < 0 || quote > end) throw tampered('record type');
  return data.toString('latin1', from, quote) as RecordType;
}

/** One line as strict JSON (UTF-8, no duplicate members, no lone surrogates): BACKUP_TAMPERED otherwise. */
function lineAt(data: Buffer, start: number, end: number): unknown {
  let text: string;
  try {
    text = utf8.decode(data.subarray(start, end));
  } catch {
    throw tampered('record is not UTF-8');
  }
  try {
    return parseStrictJson(text);
  } catch (error) {
    throw tampered(
      error instanceof StrictJsonError ? `record: ${error.fault}` : 'record is not JSON',
    );
  }
}

/**
 * A version this build does not read is BACKUP_UNSUPPORTED_VERSION, decided
 * on `type`, `format` and `version` alone (any other version may change
 * everything else); a manifest without those three is not one (BACKUP_TAMPERED).
 */
function parseManifest(value: unknown): BackupManifest {
  const head = manifestHeadSchema.safeParse(value);
  if (!head.success) throw tampered('manifest');
  const version = head.data.version;
  if (!isReadableVersion(version))
    throw new SottoError('BACKUP_UNSUPPORTED_VERSION', `format ${version}`);
  const manifest = parseManifestRecord(version, value);
  if (!manifest) throw tampered('manifest');
  return manifest;
}

function parseRecord(manifest: BackupManifest, type: CountedType, value: unknown): DataRecord {
  const record = parseDataRecord(manifest.version, type, value);
  if (!record) throw tampered(`${type} record`);
  return record;
}

function checkTrailer(
  value: unknown,
  digest: string,
  counts: RecordCounts,
  manifest: BackupManifest,
): void {
  const trailer = trailerSchema.safeParse(value);
  if (!trailer.success) throw tampered('trailer');
  if (trailer.data.sha256 !== digest) throw tampered('stream hash');
  for (const [type, n] of Object.entries(counts)) {
    const key = type as CountedType;
    if (trailer.data.counts[key] !== n || manifest.counts[key] !== n)
      throw tampered('record counts');
  }
}

function isPadding(data: Buffer, from: number): boolean {
  for (let i = from; i < data.length; i++) if (data[i] !== NEWLINE) return false;
  return true;
}
