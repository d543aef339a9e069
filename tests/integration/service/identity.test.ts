import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import {
  processEnvelopes,
  type Profile,
  publishedKeys,
  startSession,
} from '../../../electron/core/index.ts';
import { resetIdentity } from '../../../electron/core/crypto/identity-reset.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { rejectedCode } from '../../support/errors.ts';
import { flushOutbox, introduce, newProfile, tempDir, TEST_KDF } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';

// The service's identity methods over real profiles. Sync is off (no relay is
// needed for these decisions); the profile is prepared in-process first.

const PASSPHRASE = 'Alice passphrase';
const services: CoreService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

const call = callService;

async function open(dir: string): Promise<CoreService> {
  const service = createCoreService({ profileDir: dir, kdfCost: TEST_KDF, sync: false });
  services.push(service);
  await call(service, 'profile:unlock', { passphrase: PASSPHRASE });
  return service;
}

function homeSettings(profile: Profile): void {
  const set = profile.db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  set.run(['relay', join(tempDir(), 'relay')]);
  set.run(['relay.id', 'AbCdEfGhIjKlMnOpQrStUv']);
  set.run(['delivery.token', randomBytes(16).toString('hex')]);
}

describe('profile:reset-identity', () => {
  it('asks for the passphrase: a wrong one changes nothing, the right one gives a new account id', async () => {
    const { dir, profile } = await newProfile('Alice', PASSPHRASE);
    homeSettings(profile);
    const before = profile.account.accountId;
    await profile.close();
    const service = await open(dir);
    expect(
      await rejectedCode(() => call(service, 'profile:reset-identity', { passphrase: 'not it' })),
    ).toBe('WRONG_PASSPHRASE');
    expect(await rejectedCode(() => call(service, 'profile:reset-identity', {}))).toBe(
      'WRONG_PASSPHRASE',
    );
    expect((await call(service, 'app:state')).accountId).toBe(before);
    const state = await call(service, 'profile:reset-identity', { passphrase: PASSPHRASE });
    expect(state).toMatchObject({ phase: 'unlocked' });
    expect(state.accountId).not.toBe(before);
    expect(state.accountId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });
});

describe('contacts:accept-identity and contacts:verify after a contact moved', () => {
  async function aliceWithMovedBob() {
    const { dir, profile: alice } = await newProfile('Alice', PASSPHRASE);
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    const oldBob = bob.account.accountId;
    await resetIdentity(bob, {
      relay: 'ws://127.0.0.1:8787',
      relayId: 'AbCdEfGhIjKlMnOpQrStUv',
      token: randomBytes(16),
    });
    await startSession(
      bob,
      takeBundle(publishedKeys(alice.db, alice.account), 3),
      alice.account.accountId,
    );
    await processEnvelopes(alice, await flushOutbox(bob));
    await alice.close();
    return { dir, oldBob, newBob: bob.account.accountId };
  }

  it('accepting re-points the same conversation to the new account id and unblocks sending', async () => {
    const { dir, oldBob, newBob } = await aliceWithMovedBob();
    const service = await open(dir);
    const [conversation] = await call(service, 'conversations:list');
    expect(conversation).toMatchObject({ accountId: oldBob, identityChanged: true });
    expect(
      await rejectedCode(() =>
        call(service, 'messages:send', { conversationId: conversation!.id, body: 'x' }),
      ),
    ).toBe('IDENTITY_CHANGED');
    const contact = await call(service, 'contacts:accept-identity', {
      conversationId: conversation!.id,
    });
    expect(contact).toMatchObject({
      accountId: newBob,
      conversationId: conversation!.id,
      trust: 'trusted',
      verified: false,
    });
    await call(service, 'messages:send', {
      conversationId: conversation!.id,
      body: 'welcome back',
    });
  });

  it('verifying accepts the move and marks the new key verified', async () => {
    const { dir, newBob } = await aliceWithMovedBob();
    const service = await open(dir);
    const [conversation] = await call(service, 'conversations:list');
    const contact = await call(service, 'contacts:verify', { conversationId: conversation!.id });
    expect(contact).toMatchObject({ accountId: newBob, trust: 'trusted', verified: true });
  });
});
