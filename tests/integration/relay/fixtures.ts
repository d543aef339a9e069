import { randomBytes, randomUUID } from 'node:crypto';
import { PrivateKey } from '@signalapp/libsignal-client';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { PublishedKeys } from '../../../shared/protocol/keys.ts';
import {
  type MoveNotice,
  moveNoticeMessage,
  type SealedSubmission,
} from '../../../shared/relay/protocol.ts';
import type { RelayTestClient, RequestFrame, TestDevice } from '../../support/relay-client.ts';

// Frames and key sets the relay tests send. Not a test file (vitest runs *.test.ts only).

/**
 * Keys a device would publish, with one-time key ids `firstId`…`firstId + oneTime - 1`.
 * The Kyber keys are random bytes: the relay never verifies prekeys, only stores them.
 */
export function publishedKeysFor(device: TestDevice, oneTime: number, firstId = 1): PublishedKeys {
  const signedPreKey = PrivateKey.generate().getPublicKey().serialize();
  const kyber = (id: number) => ({
    id,
    publicKey: toBase64(randomBytes(1569)),
    signature: toBase64(randomBytes(64)),
  });
  const ids = Array.from({ length: oneTime }, (_, i) => firstId + i);
  return {
    accountId: device.accountId,
    deviceId: device.deviceId,
    registrationId: 1234,
    identityKey: toBase64(device.identity.publicKey.serialize()),
    signedPreKey: {
      id: 1,
      publicKey: toBase64(signedPreKey),
      signature: toBase64(device.identity.privateKey.sign(signedPreKey)),
    },
    lastResortKyberPreKey: kyber(0xffffff),
    oneTimePreKeys: ids.map((id) => ({
      id,
      publicKey: toBase64(PrivateKey.generate().getPublicKey().serialize()),
    })),
    oneTimeKyberPreKeys: ids.map(kyber),
  };
}

/** A sealed submission of `body` to a device with its token. */
export function submission(
  to: TestDevice,
  token: string,
  body: Uint8Array,
  clientMessageId: string = randomUUID(),
): SealedSubmission {
  return {
    clientMessageId,
    to: to.accountId,
    toDevice: to.deviceId,
    token,
    body: toBase64(body),
  };
}

/** A `send` frame (without id) carrying `body` to a device. */
export function sendFrame(
  to: TestDevice,
  token: string,
  body: Uint8Array,
  clientMessageId?: string,
): Extract<RequestFrame, { type: 'send' }> {
  return { type: 'send', envelope: submission(to, token, body, clientMessageId) };
}

/** Sends `body` on an anonymous connection and returns the envelope id the relay assigned. */
export async function sendOk(
  client: RelayTestClient,
  to: TestDevice,
  token: string,
  body: Uint8Array = randomBytes(64),
  clientMessageId?: string,
): Promise<string> {
  const answer = await client.request(sendFrame(to, token, body, clientMessageId));
  if (answer.type !== 'ok' || answer.envelopeId === undefined)
    throw new Error(`send refused: ${JSON.stringify(answer)}`);
  return answer.envelopeId;
}

/** A move notice from `from` to `to`, signed by `signer` (the old key when honest). */
export function moveNotice(from: TestDevice, to: TestDevice, signer = from.identity): MoveNotice {
  const identityKey = to.identity.publicKey.serialize();
  const issuedAt = Date.now();
  return {
    from: from.accountId,
    to: to.accountId,
    identityKey: toBase64(identityKey),
    issuedAt,
    signature: toBase64(
      signer.privateKey.sign(
        moveNoticeMessage(from.accountId, to.accountId, identityKey, issuedAt),
      ),
    ),
  };
}
