import { beforeEach, describe, expect, it, vi } from 'vitest';

// Electron cannot run on these machines: this fake stands in for the
// `electron` module's safeStorage, with a reversible transform and a settable backend.
const fake = vi.hoisted(() => ({ available: true, backend: 'gnome_libsecret' }));
vi.mock('electron', () => ({
  safeStorage: {
    isEncryptionAvailable: () => fake.available,
    getSelectedStorageBackend: () => fake.backend,
    encryptString: (text: string) => Buffer.from(`sealed:${text}`),
    decryptString: (blob: Buffer) => {
      const text = blob.toString();
      if (!text.startsWith('sealed:'))
        throw new Error(
          'Error while decrypting the ciphertext provided to safeStorage.decryptString.',
        );
      return text.slice('sealed:'.length);
    },
  },
}));

const { safeStorageKeychain } = await import('../../../electron/main/keychain.ts');

describe('safeStorage keychain adapter', () => {
  beforeEach(() => {
    fake.available = true;
    fake.backend = 'gnome_libsecret';
  });

  it('round-trips a 32-byte key', async () => {
    const keychain = safeStorageKeychain('linux')!;
    const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    expect(Buffer.from(await keychain.decrypt(await keychain.encrypt(key)))).toEqual(
      Buffer.from(key),
    );
  });

  it('treats Linux basic_text (and unknown) as no protection, libsecret and kwallet as real', () => {
    expect(safeStorageKeychain('linux')).toMatchObject({
      backend: 'gnome_libsecret',
      isSecure: true,
    });
    fake.backend = 'kwallet6';
    expect(safeStorageKeychain('linux')?.isSecure).toBe(true);
    fake.backend = 'basic_text';
    expect(safeStorageKeychain('linux')).toMatchObject({ backend: 'basic_text', isSecure: false });
    fake.backend = 'unknown';
    expect(safeStorageKeychain('linux')?.isSecure).toBe(false);
  });

  it('is secure on macOS and Windows, and absent when encryption is unavailable', () => {
    expect(safeStorageKeychain('darwin')).toMatchObject({ backend: 'keychain', isSecure: true });
    expect(safeStorageKeychain('win32')).toMatchObject({ backend: 'dpapi', isSecure: true });
    fake.available = false;
    expect(safeStorageKeychain('linux')).toBeUndefined();
  });
});
