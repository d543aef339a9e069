import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { type AccountId, accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import {
  ATTACHMENT_KEY_BYTES,
  attachmentPointerSchema,
  blobIdSchema,
  MAX_ATTACHMENT_BYTES,
  MAX_DURATION_MS,
} from '../../../../shared/protocol/attachment.ts';
import { PADDED_BASE64 } from '../../../../shared/protocol/encoding.ts';
import { SottoError } from '../../errors.ts';

// Attachments in the inner backup stream (docs/backup-format.md#attachments),
// version 3 (`durationMs` since version 6, `senderAccount` since version 7):
// one `attachment` record per file (its row and pointer), followed at once by the file's plaintext in
// `attachmentData` records of at most 48 KiB each, base64 inside the JSON
// line. The age layer encrypts and
// authenticates them like every other line, and a reader holds at most one
// data line at a time, so a 100 MiB file never sits in memory.

/** Plaintext bytes per `attachmentData` record (the last one may be shorter): 65,536 base64 characters. */
export const ATTACHMENT_DATA_BYTES = 48 * 1024;

const base64Of = (bytes: number) =>
  z
    .string()
    .regex(PADDED_BASE64)
    .length(Math.ceil(bytes / 3) * 4);
const uuid = z.uuid();

/**
 * What became of the file, as the backup carries it:
 * - `done`: received and stored (bytes follow);
 * - `pending`: received pointer, not downloaded yet (no bytes; downloaded after restore);
 * - `uploaded`: sent, the relay held the whole blob (bytes follow);
 * - `unsent`: the upload had not finished (bytes follow; restored as failed: send it again);
 * - `failed`: a transfer refused for good (`error` says why; bytes follow if a copy was kept).
 */
export const CARRIED_STATES = ['done', 'pending', 'uploaded', 'unsent', 'failed'] as const;

const pointer = attachmentPointerSchema.shape;

/** The members of an attachment record in versions 3 to 5. */
const membersV3 = {
  type: z.literal('attachment'),
  id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  message: uuid.nullable(),
  groupMessage: uuid.nullable(),
  position: z.number().int().min(0).max(255),
  outgoing: z.boolean(),
  state: z.enum(CARRIED_STATES),
  error: z
    .string()
    .regex(/^[A-Z][A-Z_]{0,63}$/)
    .nullable(),
  blobId: blobIdSchema.nullable(),
  key: base64Of(ATTACHMENT_KEY_BYTES),
  digest: base64Of(32).nullable(),
  size: z.number().int().nonnegative().max(MAX_ATTACHMENT_BYTES),
  contentType: pointer.contentType,
  fileName: pointer.fileName.unwrap().nullable(),
  width: pointer.width.unwrap().nullable(),
  height: pointer.height.unwrap().nullable(),
  preview: pointer.preview.unwrap().nullable(),
  /** SHA-256 (hex) of the plaintext that follows; null when no bytes follow. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
};

/**
 * A pointer's playing time as the profile stores it (migration 0018): whole
 * ms, 1 to MAX_DURATION_MS, or null when the pointer stated none. The member
 * is required from version 6 on; anything else (zero, negative, fractional,
 * over 24 h, a string) is BACKUP_TAMPERED, as the database's CHECK refuses it.
 */
export const durationMsSchema = z.number().int().min(1).max(MAX_DURATION_MS).nullable();

type RecordRules = z.infer<z.ZodObject<typeof membersV3>>;

/** The rules across an attachment record's members, whatever its version. */
function withRules<T extends RecordRules>(schema: z.ZodType<T>): z.ZodType<T> {
  return schema
    .refine((r) => (r.message === null) !== (r.groupMessage === null), 'one message')
    .refine((r) => (r.state === 'done' || r.state === 'pending') === !r.outgoing, 'direction')
    .refine((r) => (r.state === 'failed') === (r.error !== null), 'error')
    .refine((r) => r.state !== 'pending' || r.sha256 === null, 'pending carries no bytes')
    .refine((r) => r.state !== 'done' || r.sha256 !== null, 'done carries its bytes')
    .refine(
      (r) => !['pending', 'uploaded'].includes(r.state) || (r.blobId !== null && r.digest !== null),
      'pointer',
    );
}

/** The members of an attachment record in version 6. */
const membersV6 = { ...membersV3, durationMs: durationMsSchema };

/**
 * One attachment (version 7): its message by sender and uuid (a uuid is
 * unique per sender only, migration 0020), its pointer, whether and which
 * bytes follow.
 */
export const attachmentRecordSchema = withRules(
  z.strictObject({ ...membersV6, senderAccount: accountIdSchema }),
);

/**
 * An attachment as read, whatever its version: `senderAccount` is null for a
 * record of version 6 or older, which names its message by uuid alone.
 */
export type AttachmentRecord = Omit<z.infer<typeof attachmentRecordSchema>, 'senderAccount'> & {
  readonly senderAccount: AccountId | null;
};

/** An attachment record of version 6 (no `senderAccount`): its message by uuid alone. */
export const attachmentRecordSchemaV6 = withRules(z.strictObject(membersV6)).transform(
  (record): AttachmentRecord => ({ ...record, senderAccount: null }),
);

/** An attachment record of versions 3 to 5 (no `durationMs`, no `senderAccount`): no duration, by uuid alone. */
export const attachmentRecordSchemaV3 = withRules(z.strictObject(membersV3)).transform(
  (record): AttachmentRecord => ({ ...record, durationMs: null, senderAccount: null }),
);

/** A piece of the plaintext of the attachment record just before it. */
export const attachmentDataRecordSchema = z.strictObject({
  type: z.literal('attachmentData'),
  attachment: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  offset: z.number().int().nonnegative().max(MAX_ATTACHMENT_BYTES),
  data: z
    .string()
    .min(4)
    .max((ATTACHMENT_DATA_BYTES / 3) * 4)
    // Canonical padded base64, checked natively: the PADDED_BASE64 regex over 64 KiB lines cost
    // more than everything else in a deep read of a file's data (profiled: ~2.5 ms a line).
    .refine((text) => Buffer.from(text, 'base64').toString('base64') === text, 'base64'),
});
export type AttachmentDataRecord = z.infer<typeof attachmentDataRecordSchema>;

const tampered = (detail: string) => new SottoError('BACKUP_TAMPERED', detail);

/** The first 52 bits of a uuid as a number: a compact set key (collisions ~n²/2⁵³, negligible). */
function uuidKey(id: string): number {
  return Number.parseInt(id.replaceAll('-', '').slice(0, 13), 16);
}

/**
 * The rules across attachment records that a schema cannot see (deep reads):
 * ids are unique; each file's data follows its record at once, in order
 * (offsets contiguous from 0), exactly `size` bytes in all, whose SHA-256 is
 * the record's; a record names a message or group message of the same
 * backup. Everything else is BACKUP_TAMPERED.
 */
export class AttachmentStreamCheck {
  private readonly ids = new Set<number>();
  private readonly messages = new Set<number>();
  private current: { record: AttachmentRecord; received: number; hash: Hash } | undefined;

  /** `expected`: whether the manifest announces attachments (only then are message ids kept). */
  constructor(private readonly expected: boolean) {}

  /** Sees a message or group message record (its uuid, when attachments will follow). */
  message(uuid: string): void {
    if (this.expected) this.messages.add(uuidKey(uuid));
  }

  /** Checks an attachment record: the previous file is complete, the id is new, its message exists. */
  attachment(record: AttachmentRecord): void {
    this.complete();
    if (this.ids.has(record.id)) throw tampered('duplicate attachment id');
    this.ids.add(record.id);
    if (!this.messages.has(uuidKey(record.message ?? record.groupMessage!)))
      throw tampered('attachment of an unknown message');
    if (record.sha256 !== null) this.current = { record, received: 0, hash: createHash('sha256') };
  }

  /** Checks a data record against the open file; returns its bytes. */
  data(record: AttachmentDataRecord): Buffer {
    const open = this.current;
    if (!open || open.record.id !== record.attachment)
      throw tampered('attachment data out of place');
    if (record.offset !== open.received) throw tampered('attachment data offset');
    const bytes = Buffer.from(record.data, 'base64');
    if (open.received + bytes.length > open.record.size)
      throw tampered('attachment data beyond its size');
    open.received += bytes.length;
    open.hash.update(bytes);
    if (open.received === open.record.size) this.complete();
    return bytes;
  }

  /** The open file must be complete (before the next attachment, and before the trailer). */
  complete(): void {
    const open = this.current;
    if (!open) return;
    if (open.received !== open.record.size) throw tampered('attachment data cut short');
    if (open.hash.digest('hex') !== open.record.sha256) throw tampered('attachment digest');
    this.current = undefined;
  }
}
