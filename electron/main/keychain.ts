import { safeStorage } from 'electron';
import type { KeychainAdapter } from '../core/index.ts';

/** safeStorage backends on Linux that give no real protection. */
const INSECURE_LINUX_BACKENDS = new Set(['basic_text', 'unknown']);

/**
 * The OS keychain through Electron's safeStorage (Keychain on macOS, DPAPI on
 * Windows, libsecret/kwallet on Linux). On Linux, the `basic_text` backend
 * encrypts with a hard-coded password: it is reported as not secure, and the
 * core then requires a passphrase.
 */
export function safeStorageKeychain(
  platform: NodeJS.Platform = process.platform,
): KeychainAdapter | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  const backend =
    platform === 'linux'
      ? safeStorage.getSelectedStorageBackend()
      : platform === 'darwin'
        ? 'keychain'
        : 'dpapi';
  return {
    backend,
    isSecure: platform !== 'linux' || !INSECURE_LINUX_BACKENDS.has(backend),
    encrypt: (secret) =>
      Promise.resolve(safeStorage.encryptString(Buffer.from(secret).toString('base64'))),
    decrypt: (blob) =>
      Promise.resolve(Buffer.from(safeStorage.decryptString(Buffer.from(blob)), 'base64')),
  };
}
