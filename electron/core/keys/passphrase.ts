import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type Algorithm, hashRaw } from '@node-rs/argon2';
import { SottoError } from '../errors.ts';
import type { Argon2idParams, PassphraseWrapper } from './keyfile.ts';

// `Algorithm` is an ambient const enum; 2 is its Argon2id member.
const ARGON2ID: Algorithm = 2;

/** Argon2id cost: memory, passes and lanes. */
export type KdfCost = Pick<Argon2idParams, 'memoryKiB' | 'iterations' | 'parallelism'>;

/**
 * Default cost, tuned to about half a second on the reference machine
 * (2 cores; see docs/key-file.md for the measurement). Tests pass weaker
 * parameters explicitly; nothing lowers this default.
 */
export const DEFAULT_KDF_COST: KdfCost = { memoryKiB: 256 * 1024, iterations: 3, parallelism: 1 };

/** Wraps the 32-byte database key under a passphrase (Argon2id + AES-256-GCM). */
export async function wrapWithPassphrase(
  key: Uint8Array,
  passphrase: string,
  profileId: string,
  cost: KdfCost = DEFAULT_KDF_COST,
): Promise<PassphraseWrapper> {
  const kdf: Argon2idParams = {
    algorithm: 'argon2id',
    ...cost,
    salt: randomBytes(16).toString('base64'),
  };
  const kek = await deriveKek(passphrase, kdf);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(associatedData(profileId, kdf));
  const ciphertext = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  kek.fill(0);
  return {
    type: 'passphrase',
    kdf,
    cipher: 'aes-256-gcm',
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** Recovers the database key; a failed authentication is WRONG_PASSPHRASE. */
export async function unwrapWithPassphrase(
  wrapper: PassphraseWrapper,
  passphrase: string,
  profileId: string,
): Promise<Uint8Array> {
  const kek = await deriveKek(passphrase, wrapper.kdf);
  const sealed = Buffer.from(wrapper.ciphertext, 'base64');
  const nonce = Buffer.from(wrapper.nonce, 'base64');
  if (sealed.length !== 48 || nonce.length !== 12)
    throw new SottoError('KEYFILE_CORRUPT', 'wrapper size');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce);
    decipher.setAAD(associatedData(profileId, wrapper.kdf));
    decipher.setAuthTag(sealed.subarray(32));
    return Buffer.concat([decipher.update(sealed.subarray(0, 32)), decipher.final()]);
  } catch {
    throw new SottoError('WRONG_PASSPHRASE');
  } finally {
    kek.fill(0);
  }
}

async function deriveKek(passphrase: string, kdf: Argon2idParams): Promise<Buffer> {
  // NFC so the same passphrase typed on another OS or keyboard layout still unlocks.
  return hashRaw(Buffer.from(passphrase.normalize('NFC'), 'utf8'), {
    algorithm: ARGON2ID,
    memoryCost: kdf.memoryKiB,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    salt: Buffer.from(kdf.salt, 'base64'),
    outputLen: 32,
  });
}

/** Binds the ciphertext to this profile and to the KDF parameters (no downgrade). */
function associatedData(profileId: string, kdf: Argon2idParams): Buffer {
  return Buffer.from(
    `sotto-keyfile/1/passphrase/${profileId}/${kdf.memoryKiB}/${kdf.iterations}/${kdf.parallelism}/${kdf.salt}`,
    'utf8',
  );
}
