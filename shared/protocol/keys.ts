import { z } from 'zod';
import { PADDED_BASE64 } from './encoding.ts';
import { accountIdSchema } from './account-id.ts';

// The public key material a device publishes and a peer fetches to start a
// session (X3DH/PQXDH). Binary fields are standard base64 of libsignal's
// serialized forms. docs/relay-protocol.md describes them on the wire.

const base64 = z.string().min(1).max(4096).regex(PADDED_BASE64);
const keyId = z.number().int().min(1).max(0xffffff);

export const ecPreKeySchema = z.object({ id: keyId, publicKey: base64 });
export const signedPreKeySchema = z.object({ id: keyId, publicKey: base64, signature: base64 });

export const publishedKeysSchema = z.object({
  accountId: accountIdSchema,
  deviceId: z.number().int().min(1).max(127),
  registrationId: z.number().int().min(1).max(0x3fff),
  identityKey: base64,
  signedPreKey: signedPreKeySchema,
  lastResortKyberPreKey: signedPreKeySchema,
  oneTimePreKeys: z.array(ecPreKeySchema).max(1000),
  oneTimeKyberPreKeys: z.array(signedPreKeySchema).max(1000),
});

/** One prekey bundle, as a directory hands it out: one-time keys consumed. */
export const preKeyBundleSchema = z.object({
  accountId: accountIdSchema,
  deviceId: z.number().int().min(1).max(127),
  registrationId: z.number().int().min(1).max(0x3fff),
  identityKey: base64,
  signedPreKey: signedPreKeySchema,
  kyberPreKey: signedPreKeySchema,
  preKey: ecPreKeySchema.nullable(),
});

export type EcPreKey = z.infer<typeof ecPreKeySchema>;
export type SignedPreKey = z.infer<typeof signedPreKeySchema>;
export type PublishedKeys = z.infer<typeof publishedKeysSchema>;
export type PreKeyBundleData = z.infer<typeof preKeyBundleSchema>;

/** Picks the bundle a directory would hand out next: first one-time keys, else last resort. */
export function takeBundle(keys: PublishedKeys, index = 0): PreKeyBundleData {
  return {
    accountId: keys.accountId,
    deviceId: keys.deviceId,
    registrationId: keys.registrationId,
    identityKey: keys.identityKey,
    signedPreKey: keys.signedPreKey,
    kyberPreKey: keys.oneTimeKyberPreKeys[index] ?? keys.lastResortKyberPreKey,
    preKey: keys.oneTimePreKeys[index] ?? null,
  };
}
