import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import {
  ACCOUNT_ID_DOMAIN,
  accountIdFromDigest,
  accountIdFromLegacy,
} from '../../../shared/protocol/account-id.ts';

// The vector of docs/message-format.md#account-ids: the 33-byte input 05 || 00×32.
const ZERO_KEY = Buffer.concat([Buffer.of(5), Buffer.alloc(32)]);
const ZERO_KEY_ID = 'e0f1a7c3-57e4-1ee2-adc3-567adf850719';
const ZERO_KEY_LEGACY_ID = '4dy2pq2x4qpoflodkz5n7bihdhkogaxd';

describe('account ids', () => {
  it('are the first 16 bytes of SHA-256(domain || key) as a lowercase UUID (the documented vector)', () => {
    const digest = createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(ZERO_KEY).digest();
    expect(accountIdFromDigest(digest)).toBe(ZERO_KEY_ID);
  });

  it('map from the first format without the key: both are prefixes of one digest', () => {
    expect(accountIdFromLegacy(ZERO_KEY_LEGACY_ID)).toBe(ZERO_KEY_ID);
    expect(() => accountIdFromLegacy(ZERO_KEY_ID)).toThrow();
  });

  it('deriveAccountId hashes the serialized public key', () => {
    const key = IdentityKeyPair.generate().publicKey;
    const digest = createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(key.serialize()).digest();
    expect(deriveAccountId(key)).toBe(accountIdFromDigest(digest));
    expect(deriveAccountId(key)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });
});
