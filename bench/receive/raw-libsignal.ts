import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  SenderCertificate,
  sealedSenderDecryptToUsmc,
  sealedSenderEncrypt,
  ServerCertificate,
} from '@signalapp/libsignal-client';
import { unidentifiedContent } from '../../electron/core/messaging/usmc.ts';
import {
  decryptWhisper,
  encryptWhisper,
  establishSession,
  type Party,
} from '../support/raw-session.ts';

/** Decrypt throughput of one run. */
export interface Throughput {
  readonly messages: number;
  readonly ms: number;
  readonly perSecond: number;
}

/** Seals a Whisper message from `from` to `to` with a self-issued certificate (what Sotto sends). */
function sealer(
  from: Party,
  to: Party,
): (body: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer>> {
  const key = from.identity;
  const server = ServerCertificate.new(1, key.publicKey, key.privateKey);
  const cert = SenderCertificate.new(
    from.address.name(),
    null,
    1,
    key.publicKey,
    Date.now() + 86_400_000,
    server,
    key.privateKey,
  );
  return (body) =>
    sealedSenderEncrypt(unidentifiedContent(2, body, cert, 0), to.address, from.stores.identity);
}

/**
 * Establishes a session both ways (PreKey message, then a reply, so the
 * sender's later messages are plain Whisper messages), pre-encrypts — and,
 * with `sealed`, seals — `warmup + messages` plaintexts of `bytes` bytes, then
 * times decrypting `messages` of them after `warmup` untimed ones. Sealed:
 * `sealedSenderDecryptToUsmc`, the certificate's `validate` (as Signal
 * Desktop does for every envelope), then the inner decrypt.
 */
export async function rawLibsignalDecrypts(
  messages: number,
  warmup: number,
  bytes: number,
  sealed = false,
): Promise<Throughput> {
  const { alice, bob } = await establishSession(randomBytes(bytes), randomBytes(bytes));
  const seal = sealer(alice, bob);

  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < warmup + messages; i++) {
    const inner = await encryptWhisper(alice, bob, randomBytes(bytes));
    bodies.push(sealed ? await seal(inner) : inner);
  }
  const open = async (body: Uint8Array<ArrayBuffer>) => {
    if (!sealed) return decryptWhisper(bob, alice, body);
    const content = await sealedSenderDecryptToUsmc(body, bob.stores.identity);
    const certificate = content.senderCertificate();
    if (!certificate.validate(certificate.key(), Date.now()))
      throw new Error('certificate refused');
    return decryptWhisper(bob, alice, content.contents());
  };
  for (const body of bodies.slice(0, warmup)) await open(body);

  const start = performance.now();
  for (const body of bodies.slice(warmup)) await open(body);
  const ms = performance.now() - start;
  return { messages, ms, perSecond: (messages / ms) * 1000 };
}
