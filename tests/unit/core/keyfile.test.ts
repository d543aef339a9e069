import { describe, expect, it } from 'vitest';
import { hasCode } from '../../../electron/core/errors.ts';
import { decodeKeyFile, encodeKeyFile, type KeyFile } from '../../../electron/core/keys/keyfile.ts';
import {
  unwrapWithPassphrase,
  wrapWithPassphrase,
} from '../../../electron/core/keys/passphrase.ts';
import { thrownCode } from '../../support/errors.ts';
import { TEST_KDF } from '../../support/profiles.ts';

const profileId = '0123456789abcdef0123456789abcdef';
const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);

async function sampleFile(): Promise<KeyFile> {
  return {
    format: 'sotto-keyfile',
    version: 1,
    profileId,
    wrappers: [await wrapWithPassphrase(key, 'correct horse', profileId, TEST_KDF)],
  };
}

describe('key file', () => {
  it('round-trips and unwraps the key with the right passphrase only', async () => {
    const file = decodeKeyFile(encodeKeyFile(await sampleFile()));
    const wrapper = file.wrappers[0]!;
    if (wrapper.type !== 'passphrase') throw new Error('expected a passphrase wrapper');
    expect(await unwrapWithPassphrase(wrapper, 'correct horse', profileId)).toEqual(
      Buffer.from(key),
    );
    await expect(unwrapWithPassphrase(wrapper, 'wrong horse', profileId)).rejects.toSatisfy((e) =>
      hasCode(e, 'WRONG_PASSPHRASE'),
    );
  });

  it('normalizes the passphrase (NFC), so a decomposed é unlocks a composed one', async () => {
    const wrapper = await wrapWithPassphrase(key, 'caf\u00e9', profileId, TEST_KDF);
    expect(await unwrapWithPassphrase(wrapper, 'cafe\u0301', profileId)).toEqual(Buffer.from(key));
  });

  it('binds the wrapped key to its KDF parameters: lowering them is detected', async () => {
    const wrapper = await wrapWithPassphrase(key, 'pw', profileId, { ...TEST_KDF, iterations: 2 });
    const downgraded = { ...wrapper, kdf: { ...wrapper.kdf, iterations: 1 } };
    await expect(unwrapWithPassphrase(downgraded, 'pw', profileId)).rejects.toSatisfy((e) =>
      hasCode(e, 'WRONG_PASSPHRASE'),
    );
  });

  it('tells damage (KEYFILE_CORRUPT) apart from a wrong passphrase', async () => {
    const text = encodeKeyFile(await sampleFile());
    const flipped = text.replace('"version":1', '"version":7');
    expect(thrownCode(() => decodeKeyFile(flipped))).toBe('KEYFILE_CORRUPT');
    expect(thrownCode(() => decodeKeyFile(text.slice(0, -10)))).toBe('KEYFILE_CORRUPT');
    expect(thrownCode(() => decodeKeyFile(''))).toBe('KEYFILE_CORRUPT');
    expect(thrownCode(() => decodeKeyFile('{}\n'))).toBe('KEYFILE_CORRUPT');
  });

  it('refuses a well-formed key file of a newer format version with PROFILE_TOO_NEW', async () => {
    const body = JSON.stringify({ ...(await sampleFile()), version: 2 });
    const { createHash } = await import('node:crypto');
    const text = `${body}\nsha256:${createHash('sha256').update(body).digest('hex')}\n`;
    expect(thrownCode(() => decodeKeyFile(text))).toBe('PROFILE_TOO_NEW');
  });
});
