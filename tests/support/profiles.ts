import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  addContact,
  encryptQueued,
  markSent,
  ownDeliveryToken,
  Profile,
  publishedKeys,
  type ReadyEnvelope,
  sealReady,
  startSession,
  type IncomingEnvelope,
} from '../../electron/core/index.ts';
import { RECEIPT_DELAY_MS } from '../../electron/core/messaging/outbox.ts';
import { takeBundle } from '../../shared/protocol/keys.ts';
import { fromBase64, toBase64 } from '../../shared/protocol/encoding.ts';
import { formatInvite, type Invite } from '../../shared/protocol/invite.ts';

import { TEST_KDF } from './test-kdf.ts';

export { TEST_KDF };

/** The relay address `cardOf` gives contacts when a test names none (never contacted in-process). */
export const TEST_RELAY = 'wss://relay.test.invalid';
/** A relay id of the right shape for cards and invites in tests. */
export const TEST_RELAY_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

const dirs: string[] = [];
const opened: Profile[] = [];
afterEach(async () => {
  // Close what tests left open first: an open profile's integrity worker and WAL
  // files would race the removal of its directory.
  for (const profile of opened.splice(0)) await profile.close();
  for (const dir of dirs.splice(0))
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(prefix = 'sotto-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Creates a passphrase-protected profile in a new temp dir. */
export async function newProfile(displayName: string, passphrase = `${displayName} passphrase`) {
  const dir = join(tempDir(), 'profile');
  const profile = await Profile.create(dir, { displayName, passphrase, kdfCost: TEST_KDF });
  opened.push(profile);
  return { dir, passphrase, profile };
}

/** The card an invite would carry for `profile`: key, current delivery token, relay. */
export function cardOf(profile: Profile, relay = TEST_RELAY) {
  return {
    accountId: profile.account.accountId,
    identityKey: profile.account.identity.publicKey.serialize(),
    displayName: profile.account.displayName,
    relay,
    relayId: TEST_RELAY_ID,
    token: ownDeliveryToken(profile),
  };
}

/** Makes two profiles contacts of each other, and gives `from` a session to `to`. */
export async function introduce(from: Profile, to: Profile, bundleIndex = 0): Promise<void> {
  addContact(from, cardOf(to));
  addContact(to, cardOf(from));
  await startSession(
    from,
    takeBundle(publishedKeys(to.db, to.account), bundleIndex),
    to.account.accountId,
  );
}

let envelopeCounter = 0;

/**
 * Encrypts and seals everything queued in `profile` (delayed receipts too)
 * and hands it over as a relay would: sealed bodies, no sender.
 */
export async function flushOutbox(profile: Profile): Promise<IncomingEnvelope[]> {
  await encryptQueued(profile, 10_000);
  const later = Date.now() + RECEIPT_DELAY_MS.max + 1;
  const ready = await sealReady(profile, 10_000, 'all', [], later);
  markSent(
    profile,
    ready.map((e) => e.outboxId),
  );
  return ready.map((e) => asDelivered(e));
}

/** What a relay would deliver for a sealed envelope: its body and the time it stored it. */
export function asDelivered(envelope: ReadyEnvelope, serverTime = Date.now()): IncomingEnvelope {
  envelopeCounter += 1;
  return {
    id: `env-${envelopeCounter}-${envelope.submission.clientMessageId}`,
    body: envelope.submission.body,
    serverTime,
  };
}

/** SHA-256 of every file under `dir` (folders such as attachments/ included), by path: proves "nothing was written". */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(dir, name);
    out[name] = statSync(path).isDirectory()
      ? 'folder'
      : createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

export { fromBase64 };

/** `profile`'s invite on wss://relay.example.org (TEST_RELAY_ID), with `patch` over it (hostile invites). */
export function inviteOf(profile: Profile, patch: Partial<Invite> = {}): string {
  return formatInvite({
    relay: 'wss://relay.example.org',
    relayId: TEST_RELAY_ID,
    accountId: profile.account.accountId,
    identityKey: toBase64(profile.account.identity.publicKey.serialize()),
    token: toBase64(ownDeliveryToken(profile)),
    name: profile.account.displayName,
    ...patch,
  });
}
