import { z } from 'zod';

// The frame of the inner backup stream (docs/backup-format.md): which versions
// exist, which record types a file holds and in what order, and the counts the
// manifest announces and the trailer confirms. The records' own members are in
// records.ts and the files it imports.

/** The value of `format` in every manifest. */
export const BACKUP_FORMAT = 'sotto-backup';
/**
 * The inner stream version this build writes. Version 3 added attachment
 * records: a reader of version 2 refuses it (BACKUP_UNSUPPORTED_VERSION)
 * rather than restore messages without their files. Version 4 added mutes
 * (mute-records.ts): a reader of version 3 refuses it rather than call the
 * new member tampering. Version 5 added "Delete for me" records
 * (deletion-records.ts), for the same reason as version 3. Version 6 gives
 * each of them its sender and adds `durationMs` to attachment records
 * (attachment-records.ts): new members, for the reason of version 4.
 * Version 7 names each attachment's message by its sender too, as messages
 * are named since migration 0020: a new member, for the same reason.
 */
export const BACKUP_VERSION = 7;
/**
 * Versions this build reads. Version 1 is version 2 with account ids in the
 * first, base32 format (Sotto before relay protocol v2): they are mapped to
 * the current ids while reading, so nothing after the reader sees them.
 * Version 2 is version 3 without attachment records; version 3 is version 4
 * without `mutedUntil`; version 4 is version 5 without `deletedMessage` records;
 * version 5 is version 6 without deleted messages' `senderAccount` (read as
 * any sender) and attachments' `durationMs`; version 6 is version 7 without
 * attachments' `senderAccount` (matched by uuid alone, and to nothing where
 * two senders' messages share it).
 */
export const READABLE_VERSIONS = [1, 2, 3, 4, 5, 6, 7] as const;
export type ReadableVersion = (typeof READABLE_VERSIONS)[number];

/** Record types in the order they must appear (manifest first, trailer last). */
export const RECORD_ORDER = [
  'manifest',
  'account',
  'key',
  'keyUse',
  'keyCounter',
  'setting',
  'contact',
  'conversation',
  'message',
  'group',
  'groupMessage',
  'deletedMessage',
  'attachment',
  'attachmentData',
  'trailer',
] as const;

export type RecordType = (typeof RECORD_ORDER)[number];
/** Record types that are counted (all but manifest and trailer). */
export type CountedType = Exclude<RecordType, 'manifest' | 'trailer'>;
export const COUNTED_TYPES = RECORD_ORDER.slice(1, -1) as readonly CountedType[];
/** Types only version 3 may hold; they share one place in the order (a file's data follows its record). */
export const ATTACHMENT_TYPES: readonly CountedType[] = ['attachment', 'attachmentData'];
/** The first version with attachment records. */
export const ATTACHMENT_VERSION = 3;

const count = z.number().int().nonnegative();

/** Record types a file from before they existed does not count (0 when absent). */
const LATER_TYPES: readonly CountedType[] = [
  'group',
  'groupMessage',
  'deletedMessage',
  ...ATTACHMENT_TYPES,
];

/** Records of each counted type, as the manifest announces and the trailer confirms. */
export const countsSchema = z.strictObject(
  Object.fromEntries(
    COUNTED_TYPES.map((t) => [t, LATER_TYPES.includes(t) ? count.default(0) : count]),
  ) as Record<CountedType, typeof count>,
);
export type RecordCounts = z.infer<typeof countsSchema>;

/** Only what every version's manifest has: read first, to refuse another version cleanly. */
export const manifestHeadSchema = z.object({
  type: z.literal('manifest'),
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int().nonnegative(),
});

/** The last record: the counts again and the SHA-256 of every byte before it. */
export const trailerSchema = z.strictObject({
  type: z.literal('trailer'),
  counts: countsSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Trailer = z.infer<typeof trailerSchema>;

/** True if this build reads inner stream `version`. */
export function isReadableVersion(version: number): version is ReadableVersion {
  return (READABLE_VERSIONS as readonly number[]).includes(version);
}

/** Zero for every counted type. */
export function emptyCounts(): RecordCounts {
  return Object.fromEntries(COUNTED_TYPES.map((t) => [t, 0])) as RecordCounts;
}
