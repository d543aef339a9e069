import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SottoError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

// Format: docs/key-file.md. Two lines: the JSON body, then `sha256:<hex>` over
// the body's exact bytes, so damage is told apart from a wrong passphrase.

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

const argon2idParams = z.object({
  algorithm: z.literal('argon2id'),
  memoryKiB: z
    .number()
    .int()
    .min(8)
    .max(4 * 1024 * 1024),
  iterations: z.number().int().min(1).max(64),
  parallelism: z.number().int().min(1).max(16),
  salt: base64,
});

const passphraseWrapper = z.object({
  type: z.literal('passphrase'),
  kdf: argon2idParams,
  cipher: z.literal('aes-256-gcm'),
  nonce: base64,
  ciphertext: base64,
});

const keychainWrapper = z.object({
  type: z.literal('keychain'),
  backend: z.string().min(1).max(64),
  blob: base64,
});

const keyFileBody = z.object({
  format: z.literal('sotto-keyfile'),
  version: z.literal(1),
  profileId: z.string().regex(/^[0-9a-f]{32}$/),
  wrappers: z.array(z.discriminatedUnion('type', [passphraseWrapper, keychainWrapper])).min(1),
});

export type Argon2idParams = z.infer<typeof argon2idParams>;
export type PassphraseWrapper = z.infer<typeof passphraseWrapper>;
export type KeychainWrapper = z.infer<typeof keychainWrapper>;
export type KeyWrapper = PassphraseWrapper | KeychainWrapper;
export type KeyFile = z.infer<typeof keyFileBody>;

/** Serializes a key file: body line, then its SHA-256. */
export function encodeKeyFile(file: KeyFile): string {
  const body = JSON.stringify(keyFileBody.parse(file));
  return `${body}\nsha256:${sha256Hex(body)}\n`;
}

/** Parses and checks a key file; any damage is KEYFILE_CORRUPT. */
export function decodeKeyFile(text: string): KeyFile {
  const match = /^([^\n]+)\nsha256:([0-9a-f]{64})\n$/.exec(text);
  if (!match?.[1] || match[2] !== sha256Hex(match[1])) {
    throw new SottoError('KEYFILE_CORRUPT', 'checksum');
  }
  let json: unknown;
  try {
    json = JSON.parse(match[1]);
  } catch {
    throw new SottoError('KEYFILE_CORRUPT', 'json');
  }
  const parsed = keyFileBody.safeParse(json);
  if (!parsed.success) {
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > 1)
      throw new SottoError('PROFILE_TOO_NEW', 'key file');
    throw new SottoError('KEYFILE_CORRUPT', 'schema');
  }
  return parsed.data;
}

/** Reads the key file at `path`. */
export function readKeyFile(path: string): KeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new SottoError('PROFILE_NOT_FOUND');
    throw error;
  }
  return decodeKeyFile(text);
}

/** Atomically replaces the key file at `path`. */
export function writeKeyFile(path: string, file: KeyFile): void {
  writeFileAtomic(path, encodeKeyFile(file));
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
