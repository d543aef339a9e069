import { attachmentById } from './attachment-rows.ts';
import { readStoredRange, type StoredCopy, storedCopyOf } from './stored-copy.ts';
import type { Profile } from '../profile/profile.ts';

// What main's attachment: scheme needs to serve a stored copy: where it is and
// what opens it. This crosses from the core worker to the main thread (both
// trusted, one process) and never further: the renderer names files by id only.

/** A stored, downloaded attachment as the scheme serves it. */
export interface MediaSource extends StoredCopy {
  /** The label the sender gave (the scheme whitelists it). */
  readonly contentType: string;
}

/** The stored copy of attachment `id`, or undefined when there is none (unknown, not downloaded yet, failed). */
export function mediaSourceOf(profile: Profile, id: number): MediaSource | undefined {
  const row = attachmentById(profile.db, id);
  const copy = row && storedCopyOf(profile.paths.dir, row);
  return copy && { ...copy, contentType: row.contentType };
}

/**
 * Plaintext bytes [start, end] (inclusive, as HTTP ranges count) of a stored
 * copy, each checked before it is yielded (ATTACHMENT_TAMPERED otherwise):
 * a seek reads only the chunks it lands in (stored-copy.ts).
 */
export function decryptRange(
  source: MediaSource,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  return readStoredRange(source, start, end + 1);
}
