import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SottoError } from '../../../electron/core/errors.ts';
import type { KeychainAdapter } from '../../../electron/core/keys/keychain.ts';
import { CoreHost } from '../../../electron/main/core-host.ts';
import { decryptRange } from '../../../electron/core/attachments/media-source.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { person } from '../../support/group-world.ts';
import { TEST_KDF } from '../../support/profiles.ts';

// CoreHost in a real worker thread. Most tests serve a fake CoreService through
// the real worker plumbing (fixtures/fake-core-worker.ts); the last one runs the
// real core worker entry against an empty profile directory.

const FAKE_WORKER = new URL('./fixtures/fake-core-worker.ts', import.meta.url);
const CRASHING_WORKER = new URL('./fixtures/crashing-core-worker.ts', import.meta.url);

/** A reversible stand-in for safeStorage that records what it was asked. */
function recordingKeychain(): KeychainAdapter & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    backend: 'fake',
    isSecure: true,
    encrypt: (secret) => {
      calls.push('encrypt');
      return Promise.resolve(Uint8Array.from(secret, (b) => b ^ 0xff));
    },
    decrypt: (blob) => {
      calls.push('decrypt');
      return Promise.resolve(Uint8Array.from(blob, (b) => b ^ 0xff));
    },
  };
}

const hosts: CoreHost[] = [];
async function startFake(keychain?: KeychainAdapter): Promise<CoreHost> {
  const host = await CoreHost.start({
    profileDir: 'unused',
    workerUrl: FAKE_WORKER,
    ...(keychain ? { keychain } : {}),
  });
  hosts.push(host);
  return host;
}

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()));
});

describe('CoreHost', () => {
  it('round-trips a call through the worker', async () => {
    const host = await startFake();
    expect(await host.call('app:state', {})).toEqual({
      ok: true,
      value: {
        phase: 'no-profile',
        accountId: null,
        displayName: null,
        keychainSecure: false,
        unlockWith: null,
      },
    });
  });

  it('hands the worker the parsed input, not the raw one', async () => {
    const host = await startFake();
    expect(await host.call('contacts:add', { invite: '  sotto://invite  ' })).toEqual({
      ok: true,
      value: { echoed: { invite: 'sotto://invite' } },
    });
  });

  it('returns a SottoError as its code and anything else as INTERNAL, without its text', async () => {
    const host = await startFake();
    expect(await host.call('profile:unlock', { passphrase: 'wrong' })).toEqual({
      ok: false,
      code: 'WRONG_PASSPHRASE',
    });
    const internal = await host.call('profile:unlock', { passphrase: 'other' });
    expect(internal).toEqual({ ok: false, code: 'INTERNAL' });
    expect(JSON.stringify(internal)).not.toContain('plaintext');
  });

  it('rejects malformed input and unknown methods before the worker sees them', async () => {
    const host = await startFake();
    const bad: unknown[] = [
      undefined,
      null,
      'text',
      { conversationId: -1, body: 'x' },
      { conversationId: 1, body: '' },
      { conversationId: 1, body: 'x', extra: true },
      { conversationId: '1', body: 'x' },
    ];
    for (const input of bad)
      expect(await host.call('messages:send', input)).toEqual({ ok: false, code: 'INVALID_INPUT' });
    expect(await host.call('app:state', { unexpected: 1 })).toEqual({
      ok: false,
      code: 'INVALID_INPUT',
    });
    for (const method of ['nope', '__proto__', 'constructor', 'toString', 'sotto:app:state'])
      expect(await host.call(method, {})).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });

  it('forwards push events to subscribers until they unsubscribe', async () => {
    const host = await startFake();
    const seen: unknown[] = [];
    const unsubscribe = host.onEvent((name, payload) => seen.push([name, payload]));
    expect(await host.call('messages:send', { conversationId: 1, body: 'hi' })).toEqual({
      ok: true,
      value: { sent: 'hi' },
    });
    expect(seen).toEqual([['conversations:changed', {}]]);
    unsubscribe();
    await host.call('messages:send', { conversationId: 1, body: 'again' });
    expect(seen).toHaveLength(1);
  });

  it('proxies keychain requests to the adapter on the host thread', async () => {
    const keychain = recordingKeychain();
    const host = await startFake(keychain);
    expect(await host.call('app:state', {})).toMatchObject({
      ok: true,
      value: { keychainSecure: true },
    });
    const result = await host.call('profile:create', {
      displayName: 'Ada',
      useKeychain: true,
      relay: 'ws://127.0.0.1:1',
    });
    expect(result).toMatchObject({ ok: true, value: { opened: 'Ada' } });
    expect(keychain.calls).toEqual(['encrypt', 'decrypt']);
  });

  it('finishes calls already sent when closing, then refuses new ones', async () => {
    const host = await startFake();
    const slow = host.call('messages:search', { query: 'x', limit: 10 });
    await host.close();
    expect(await slow).toEqual({ ok: true, value: ['slow result'] });
    expect(await host.call('app:state', {})).toEqual({ ok: false, code: 'INTERNAL' });
    await host.close(); // idempotent
  });

  it('answers INTERNAL for the calls a dying worker had, then serves later calls from a new worker', async () => {
    const host = await startFake();
    const events: unknown[] = [];
    host.onEvent((name, payload) => events.push([name, payload]));
    expect(await host.call('profile:invite', {})).toEqual({ ok: false, code: 'INTERNAL' });
    expect(await host.call('app:state', {})).toMatchObject({
      ok: true,
      value: { phase: 'no-profile' },
    });
    expect(await host.call('messages:send', { conversationId: 1, body: 'after' })).toEqual({
      ok: true,
      value: { sent: 'after' },
    });
    // No profile was open (first run): nothing to unlock, so no lock event.
    expect(events).toEqual([['conversations:changed', {}]]);
  }, 30_000);

  it("tells listeners 'app:locked' with reason 'restart' when a restarted core has a profile to unlock", async () => {
    const host = await CoreHost.start({ profileDir: 'has-profile', workerUrl: FAKE_WORKER });
    hosts.push(host);
    const events: unknown[] = [];
    host.onEvent((name, payload) => events.push([name, payload]));
    expect(await host.call('profile:invite', {})).toEqual({ ok: false, code: 'INTERNAL' });
    expect(await host.call('app:state', {})).toMatchObject({
      ok: true,
      value: { phase: 'locked' },
    });
    expect(events).toEqual([['app:locked', { reason: 'restart' }]]);
  }, 30_000);

  it('closes cleanly while a crashed core is being restarted', async () => {
    const host = await startFake();
    expect(await host.call('profile:invite', {})).toEqual({ ok: false, code: 'INTERNAL' });
    await host.close(); // waits for the new worker, then closes it
    expect(await host.call('app:state', {})).toEqual({ ok: false, code: 'INTERNAL' });
  }, 30_000);

  it('stops restarting a core that keeps crashing: then every call is INTERNAL', async () => {
    const host = await startFake();
    for (let crash = 1; crash <= 4; crash++)
      expect(await host.call('profile:invite', {})).toEqual({ ok: false, code: 'INTERNAL' });
    expect(await host.call('app:state', {})).toEqual({ ok: false, code: 'INTERNAL' });
    await host.close(); // still closes cleanly
  }, 60_000);

  it("rejects start with the service's error code", async () => {
    await expect(
      CoreHost.start({ profileDir: 'refuse-to-start', workerUrl: FAKE_WORKER }),
    ).rejects.toSatisfy((error) => error instanceof SottoError && error.code === 'PROFILE_LOCKED');
  });

  it('runs the real core worker: an empty directory has no profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sotto-core-host-'));
    try {
      const host = await CoreHost.start({ profileDir: join(dir, 'profile'), sync: false });
      hosts.push(host);
      expect(await host.call('app:state', {})).toMatchObject({
        ok: true,
        value: { phase: 'no-profile', accountId: null },
      });
      expect(await host.call('conversations:list', {})).toMatchObject({ ok: false });
      await host.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000); // tsx compiles the whole core in the new thread: seconds on a busy machine

  it('restarts a crashed real core with the profile locked: the user unlocks again and nothing is lost', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sotto-core-restart-'));
    const passphrase = 'quiet harbour lanterns orbit';
    try {
      const host = await CoreHost.start({
        profileDir: join(root, 'profile'),
        sync: false,
        kdfCost: TEST_KDF,
        workerUrl: CRASHING_WORKER,
      });
      hosts.push(host);
      const events: unknown[] = [];
      host.onEvent((name, payload) => events.push([name, payload]));
      const relay = join(root, 'relay');
      expect(
        await host.call('profile:create', {
          displayName: 'Ann',
          passphrase,
          useKeychain: false,
          relay,
        }),
      ).toMatchObject({ ok: true });
      expect(await host.call('settings:set', { theme: 'dark' })).toMatchObject({ ok: true });

      writeFileSync(join(root, 'crash-now'), '');
      expect(await host.call('profile:invite', {})).toEqual({ ok: false, code: 'INTERNAL' });
      rmSync(join(root, 'crash-now'));

      expect(await host.call('app:state', {})).toMatchObject({
        ok: true,
        value: { phase: 'locked', displayName: null },
      });
      expect(events).toContainEqual(['app:locked', { reason: 'restart' }]);
      expect(await host.call('conversations:list', {})).toEqual({ ok: false, code: 'APP_LOCKED' });
      expect(await host.call('profile:unlock', { passphrase: 'not it at all' })).toEqual({
        ok: false,
        code: 'WRONG_PASSPHRASE',
      });
      expect(await host.call('profile:unlock', { passphrase })).toMatchObject({
        ok: true,
        value: { phase: 'unlocked', displayName: 'Ann' },
      });
      expect(await host.call('settings:get', {})).toMatchObject({
        ok: true,
        value: { theme: 'dark' },
      });
      await host.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);

  it('looks a stored copy up for the attachment: scheme through the real worker, and never while locked', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sotto-core-media-'));
    const passphrase = 'quiet harbour lanterns orbit';
    try {
      const relay = join(root, 'relay');
      const bob = await person('Bob', relay);
      const host = await CoreHost.start({
        profileDir: join(root, 'profile'),
        sync: false,
        kdfCost: TEST_KDF,
      });
      hosts.push(host);
      await host.call('profile:create', {
        displayName: 'Ann',
        passphrase,
        useKeychain: false,
        relay,
      });
      const contact = await host.call('contacts:add', { invite: profileInvite(bob.profile) });
      if (!contact.ok) throw new Error(contact.code);
      const bytes = Uint8Array.from({ length: 5_000 }, (_, i) => (i * 31) & 0xff);
      const sent = await host.call('attachments:send-bytes', {
        conversationId: contact.value.conversationId,
        caption: '',
        files: [{ name: 'a.png', bytes: bytes.buffer }],
      });
      if (!sent.ok) throw new Error(sent.code);
      const id = sent.value.attachments[0]!.id;
      const source = await host.mediaSource(id);
      expect(source).toMatchObject({ size: 5_000, contentType: 'image/png' });
      const chunks: Buffer[] = [];
      for await (const chunk of decryptRange(source!, 100, 4_999)) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(Buffer.from(bytes.subarray(100)))).toBe(true);
      expect(await host.mediaSource(id + 1_000)).toBeUndefined();
      await host.call('profile:lock', {});
      expect(await host.mediaSource(id)).toBeUndefined();
      await host.close();
      expect(await host.mediaSource(id)).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});
