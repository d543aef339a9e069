import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirectory } from '../fs-atomic.ts';
import { BlobSealer, newAttachmentKey, sealToFiles } from './attachment-crypto.ts';
import type { StoredLocally } from './attachment-rows.ts';
import { AtRestSealer } from './at-rest.ts';

// Where a profile keeps attachments: <profile>/attachments/<random name>, each
// file in the chunked at-rest format (at-rest.ts) under its own local key, which lives only
// in the database (deleting the row makes the file unreadable), and
// attachments/tmp/ for files in transit (downloads, staging; `.up` uploads of
// older versions, which wrote the transport blob to a file).
// No plaintext is ever written under the profile.

/** A stored copy: its file name under attachments/ and what opens it. */
export type LocalCopy = StoredLocally & { readonly localKey: Buffer };

/** A random file name (the names say nothing about the content or the sender). */
export function randomFileName(suffix = ''): string {
  return `${randomBytes(16).toString('hex')}${suffix}`;
}

/** The attachments folder of a profile directory, and its staging folder. */
export function attachmentDirs(profileDir: string): { files: string; tmp: string } {
  const files = join(profileDir, 'attachments');
  return { files, tmp: join(files, 'tmp') };
}

/** Creates the attachments folders (private to the user). */
export function ensureAttachmentDirs(profileDir: string): { files: string; tmp: string } {
  const dirs = attachmentDirs(profileDir);
  mkdirSync(dirs.tmp, { recursive: true, mode: 0o700 });
  return dirs;
}

/**
 * Encrypts `size` plaintext bytes under a fresh local key into a staged file,
 * then renames it into attachments/ durably. The caller commits the row that
 * names it; a crash before that leaves an orphan that the next open deletes.
 * With `transport`, the same read of `plain` also seals the transport blob
 * under its key, its bytes handed to `push` (the upload that follows the
 * seal) and hashed for the digest (compose: one read, two encryptions).
 */
export async function storeLocally(
  profileDir: string,
  plain: AsyncIterable<Uint8Array>,
  size: number,
  transport?: { key: Uint8Array; push?: (bytes: Buffer) => Promise<void> },
): Promise<LocalCopy & { transportDigest?: Buffer }> {
  const dirs = ensureAttachmentDirs(profileDir);
  const localKey = newAttachmentKey();
  const localName = randomFileName();
  const staged = join(dirs.tmp, randomFileName('.stage'));
  const blob = transport && new BlobSealer(size, transport.key);
  const targets = [
    { sealer: new AtRestSealer(size, localKey), path: staged },
    ...(transport && blob ? [{ sealer: blob, push: transport.push }] : []),
  ];
  try {
    await sealToFiles(plain, targets);
  } catch (error) {
    rmSync(staged, { force: true });
    throw error;
  }
  renameSync(staged, join(dirs.files, localName));
  fsyncDirectory(dirs.files);
  const local: LocalCopy = { localName, localKey, localDigest: null, localFormat: 1 };
  return blob ? { ...local, transportDigest: blob.sealed.digest } : local;
}

/** The path of a stored copy. */
export function localPath(profileDir: string, localName: string): string {
  return join(attachmentDirs(profileDir).files, localName);
}

/** The path of a transfer's ciphertext under attachments/tmp/. */
export function tempPath(profileDir: string, tempName: string): string {
  return join(attachmentDirs(profileDir).tmp, tempName);
}

/** Deletes files by name from attachments/ (stored copies) and attachments/tmp/ (transfers); missing ones are fine. */
export function removeFiles(
  profileDir: string,
  names: { local?: readonly string[]; temp?: readonly string[] },
): void {
  for (const name of names.local ?? []) rmSync(localPath(profileDir, name), { force: true });
  for (const name of names.temp ?? []) rmSync(tempPath(profileDir, name), { force: true });
}

/** File names present in attachments/ and attachments/tmp/ (empty when the folder does not exist yet). */
export function presentFiles(profileDir: string): { local: string[]; temp: string[] } {
  const dirs = attachmentDirs(profileDir);
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name);
    } catch {
      return [];
    }
  };
  return { local: list(dirs.files), temp: list(dirs.tmp) };
}
