import { randomBytes } from 'node:crypto';
import { SottoError } from '../errors.ts';
import type { KeychainAdapter } from './keychain.ts';
import type { KeyFile, KeyWrapper } from './keyfile.ts';
import { type KdfCost, unwrapWithPassphrase, wrapWithPassphrase } from './passphrase.ts';
import { assertStrongPassphrase } from './passphrase-policy.ts';

/** How a profile's database key is protected when the profile is created. */
export interface KeyProtection {
  readonly passphrase?: string;
  readonly keychain?: KeychainAdapter;
  /** Argon2id cost; defaults to DEFAULT_KDF_COST. */
  readonly kdfCost?: KdfCost;
}

/** What unlocks an existing profile. */
export interface UnlockWith {
  readonly passphrase?: string;
  readonly keychain?: KeychainAdapter;
}

/**
 * Makes a fresh random database key and a key file holding it wrapped. A
 * keychain that offers no protection (Linux `basic_text`) does not count: a
 * passphrase is then required. A weak passphrase is WEAK_PASSPHRASE: no key is
 * ever wrapped under one, whichever path creates the profile.
 */
export async function createDatabaseKey(
  protection: KeyProtection,
): Promise<{ key: Uint8Array; file: KeyFile }> {
  const secureKeychain = protection.keychain?.isSecure ? protection.keychain : undefined;
  if (protection.passphrase === undefined && !secureKeychain)
    throw new SottoError('PASSPHRASE_REQUIRED');
  if (protection.passphrase !== undefined) await assertStrongPassphrase(protection.passphrase);
  const key = randomBytes(32);
  const profileId = randomBytes(16).toString('hex');
  const wrappers: KeyWrapper[] = [];
  if (protection.passphrase !== undefined) {
    wrappers.push(
      await wrapWithPassphrase(key, protection.passphrase, profileId, protection.kdfCost),
    );
  }
  if (secureKeychain) {
    const blob = await secureKeychain.encrypt(key);
    wrappers.push({
      type: 'keychain',
      backend: secureKeychain.backend,
      blob: Buffer.from(blob).toString('base64'),
    });
  }
  return { key, file: { format: 'sotto-keyfile', version: 1, profileId, wrappers } };
}

/** Recovers the database key from a key file, by keychain first, then passphrase. */
export async function unwrapDatabaseKey(file: KeyFile, unlock: UnlockWith): Promise<Uint8Array> {
  const keychainWrapper = file.wrappers.find((w) => w.type === 'keychain');
  if (unlock.keychain && keychainWrapper) {
    try {
      const key = await unlock.keychain.decrypt(Buffer.from(keychainWrapper.blob, 'base64'));
      if (key.length === 32) return key;
    } catch {
      // fall through to the passphrase, if one was given
    }
    if (unlock.passphrase === undefined) throw new SottoError('KEYCHAIN_UNAVAILABLE');
  }
  const passphraseWrapper = file.wrappers.find((w) => w.type === 'passphrase');
  if (unlock.passphrase === undefined || !passphraseWrapper)
    throw new SottoError('PASSPHRASE_REQUIRED');
  return unwrapWithPassphrase(passphraseWrapper, unlock.passphrase, file.profileId);
}

/** Returns `file` with its passphrase wrapper replaced (the key itself is unchanged); WEAK_PASSPHRASE first. */
export async function rewrapPassphrase(
  file: KeyFile,
  key: Uint8Array,
  passphrase: string,
  kdfCost?: KdfCost,
): Promise<KeyFile> {
  await assertStrongPassphrase(passphrase);
  const wrapper = await wrapWithPassphrase(key, passphrase, file.profileId, kdfCost);
  return { ...file, wrappers: [wrapper, ...file.wrappers.filter((w) => w.type !== 'passphrase')] };
}
