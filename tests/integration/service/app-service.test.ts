import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';
import { ServiceUser as User } from '../../support/service-user.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// The contract's implementation over the real core: real SQLCipher profiles,
// real libsignal sessions, a real relay process on loopback.

let relay: RelayProcess;
const users: User[] = [];

function user(dir?: string): User {
  const u = new User(dir);
  users.push(u);
  return u;
}

/** Creates a passphrase profile on the test relay (or `on`). */
function createProfile(u: User, displayName: string, passphrase: string, on = relay.url) {
  return u.call('profile:create', { displayName, passphrase, useKeychain: false, relay: on });
}

beforeAll(async () => {
  relay = await startRelayProcess(tempDir('sotto-relay-'));
});
afterEach(async () => {
  await Promise.all(users.splice(0).map((u) => u.service.close()));
});
afterAll(async () => {
  await relay.stop();
});

async function pair(): Promise<{ alice: User; bob: User; aliceChat: number; bobChat: number }> {
  const alice = user();
  const bob = user();
  await createProfile(alice, 'Alice', 'alice passphrase');
  await createProfile(bob, 'Bob', 'bob passphrase 1');
  const { link: aliceInvite } = await alice.call('profile:invite');
  const { link: bobInvite } = await bob.call('profile:invite');
  const bobSide = await bob.call('contacts:add', { invite: aliceInvite });
  const aliceSide = await alice.call('contacts:add', { invite: bobInvite });
  return { alice, bob, aliceChat: aliceSide.conversationId, bobChat: bobSide.conversationId };
}

describe('core service', () => {
  it('walks from no profile to unlocked, and refuses everything else until then', async () => {
    const u = user();
    expect((await u.call('app:state')).phase).toBe('no-profile');
    expect(await rejectedCode(() => u.call('conversations:list'))).toBe('NO_PROFILE');
    expect(
      await rejectedCode(() =>
        u.call('profile:create', {
          displayName: 'U',
          passphrase: 'short',
          useKeychain: false,
          relay: relay.url,
        }),
      ),
    ).toBe('WEAK_PASSPHRASE');
    expect(
      await rejectedCode(() =>
        u.call('profile:create', { displayName: 'U', useKeychain: true, relay: relay.url }),
      ),
    ).toBe('PASSPHRASE_REQUIRED');
    const state = await createProfile(u, 'U', 'a fine passphrase');
    expect(state).toMatchObject({
      phase: 'unlocked',
      displayName: 'U',
      unlockWith: 'passphrase',
      keychainSecure: false,
    });
    expect(
      await rejectedCode(() =>
        u.call('profile:create', {
          displayName: 'U',
          passphrase: 'a fine passphrase',
          useKeychain: false,
          relay: relay.url,
        }),
      ),
    ).toBe('PROFILE_EXISTS');
    await u.service.close();

    // A new service on the same directory (an app restart) starts locked.
    const again = user(u.dir);
    expect((await again.call('app:state')).phase).toBe('locked');
    expect(await rejectedCode(() => again.call('conversations:list'))).toBe('APP_LOCKED');
    expect(
      await rejectedCode(() => again.call('profile:unlock', { passphrase: 'wrong passphrase' })),
    ).toBe('WRONG_PASSPHRASE');
    expect((await again.call('profile:unlock', { passphrase: 'a fine passphrase' })).phase).toBe(
      'unlocked',
    );
    expect(await again.call('conversations:list')).toEqual([]);
  });

  it('locks the UI without closing the profile, and unlocks only with the right passphrase', async () => {
    const u = user();
    await createProfile(u, 'U', 'a fine passphrase');
    const locked = await u.call('profile:lock', { reason: 'idle' });
    expect(locked).toMatchObject({ phase: 'locked', accountId: null, displayName: null });
    expect(
      u.events.some(
        (e) => e.event === 'app:locked' && (e.payload as { reason: string }).reason === 'idle',
      ),
    ).toBe(true);
    expect(await rejectedCode(() => u.call('profile:invite'))).toBe('APP_LOCKED');
    expect(
      await rejectedCode(() => u.call('profile:unlock', { passphrase: 'not it at all' })),
    ).toBe('WRONG_PASSPHRASE');
    expect(await rejectedCode(() => u.call('profile:unlock', {}))).toBe('PASSPHRASE_REQUIRED');
    expect((await u.call('profile:unlock', { passphrase: 'a fine passphrase' })).phase).toBe(
      'unlocked',
    );
  });

  it('exchanges messages through the relay: events for new messages, statuses up to delivered', async () => {
    const { alice, bob, aliceChat, bobChat } = await pair();
    const sent = await alice.call('messages:send', {
      conversationId: aliceChat,
      body: 'hello bob',
    });
    expect(sent).toMatchObject({ outgoing: true, status: 'queued', body: 'hello bob' });

    const arrived = await bob.waitFor('message:new', (m) => m.uuid === sent.uuid);
    expect(arrived).toMatchObject({
      body: 'hello bob',
      outgoing: false,
      senderName: 'Alice',
      conversationId: bobChat,
    });
    await alice.waitFor(
      'message:status',
      (s) => s.messageId === sent.id && s.status === 'delivered',
    );

    const bobList = await bob.call('conversations:list');
    expect(bobList[0]).toMatchObject({
      id: bobChat,
      unreadCount: 1,
      lastMessagePreview: 'hello bob',
      failedCount: 0,
    });
    await bob.call('conversations:mark-read', { conversationId: bobChat });
    expect((await bob.call('conversations:list'))[0]?.unreadCount).toBe(0);

    const reply = await bob.call('messages:send', { conversationId: bobChat, body: 'hi alice' });
    await alice.waitFor('message:new', (m) => m.uuid === reply.uuid);
    const page = await alice.call('messages:page', { conversationId: aliceChat, limit: 10 });
    expect(page.map((m) => m.body)).toEqual(['hi alice', 'hello bob']);
    expect(
      (await alice.call('messages:search', { query: 'hel', limit: 10 })).map((m) => m.body),
    ).toEqual(['hello bob']);
    // Alice's delivery receipt for the reply leaves on the next pass.
    await alice.waitFor('sync:status', (s) => s.connection === 'online' && s.outbox === 0);
  });

  it('names a contact who writes first from their message (no-override: tests/integration/core/conversation.test.ts)', async () => {
    const alice = user();
    const bob = user();
    await createProfile(alice, 'Alice', 'alice passphrase');
    await createProfile(bob, 'Bob', 'bob passphrase 1');
    const bobSide = await bob.call('contacts:add', {
      invite: (await alice.call('profile:invite')).link,
    });
    const first = await bob.call('messages:send', {
      conversationId: bobSide.conversationId,
      body: 'it is me',
    });
    const arrived = await alice.waitFor('message:new', (m) => m.uuid === first.uuid);
    expect(arrived.senderName).toBe('Bob');
    expect((await alice.call('conversations:list'))[0]?.displayName).toBe('Bob');
    const reply = await alice.call('messages:send', {
      conversationId: arrived.conversationId,
      body: 'hello',
    });
    await bob.waitFor('message:new', (m) => m.uuid === reply.uuid);
    expect((await bob.call('contacts:list')).map((c) => c.displayName)).toEqual(['Alice']);
  });

  it('keeps drafts per conversation, pages both ways and opens a window around a message', async () => {
    const { alice, aliceChat } = await pair();
    await alice.call('conversations:set-draft', {
      conversationId: aliceChat,
      draft: 'half a thought',
    });
    expect(await alice.call('conversations:get', { conversationId: aliceChat })).toMatchObject({
      draft: 'half a thought',
      hasDraft: true,
    });
    const sent = [];
    for (let i = 0; i < 9; i++)
      sent.push(
        await alice.call('messages:send', { conversationId: aliceChat, body: `message ${i}` }),
      );
    const detail = await alice.call('conversations:get', { conversationId: aliceChat });
    expect(detail).toMatchObject({ draft: null, messageCount: 9, verified: false });

    const around = await alice.call('messages:around', { messageId: sent[4]!.id, limit: 5 });
    expect(around.messages.map((m) => m.body)).toEqual([
      'message 2',
      'message 3',
      'message 4',
      'message 5',
      'message 6',
    ]);
    const last = around.messages.at(-1)!;
    const newer = await alice.call('messages:page', {
      conversationId: aliceChat,
      limit: 5,
      after: { sentAt: last.sentAt, id: last.id },
    });
    expect(newer.map((m) => m.body)).toEqual(['message 7', 'message 8']);
    expect(
      await rejectedCode(() => alice.call('messages:around', { messageId: 999_999, limit: 5 })),
    ).toBe('INVALID_INPUT');
  });

  it('shows safety numbers that match on both sides and records verification', async () => {
    const { alice, bob, aliceChat, bobChat } = await pair();
    const a = await alice.call('contacts:safety-number', { conversationId: aliceChat });
    const b = await bob.call('contacts:safety-number', { conversationId: bobChat });
    expect(a.digits).toMatch(/^\d{60}$/);
    expect(a.digits).toBe(b.digits);
    const verified = await alice.call('contacts:verify', { conversationId: aliceChat });
    expect(verified).toMatchObject({ trust: 'trusted', verified: true });
    expect((await alice.call('conversations:get', { conversationId: aliceChat })).verified).toBe(
      true,
    );
  });

  it('queues while the relay is unreachable and reports offline with the outbox count', async () => {
    const dead = 'ws://127.0.0.1:9/v1'; // discard port: nothing listens
    const u = user();
    const other = user();
    await createProfile(u, 'U', 'a fine passphrase', dead);
    // The invite names its relay's id and token, so the other side's relay is up.
    await createProfile(other, 'O', 'other passphrase');
    const contact = await u.call('contacts:add', {
      invite: (await other.call('profile:invite')).link,
    });
    const queued = await u.call('messages:send', {
      conversationId: contact.conversationId,
      body: 'waiting',
    });
    const offline = await u.waitFor(
      'sync:status',
      (s) => s.connection === 'offline' && s.outbox === 1,
    );
    expect(offline.backlog).toBeNull();
    expect(
      (await u.call('messages:page', { conversationId: contact.conversationId, limit: 5 }))[0],
    ).toMatchObject({
      id: queued.id,
      status: 'queued',
    });
  });

  it('stores settings with defaults and validates them through the contract', async () => {
    const u = user();
    await createProfile(u, 'U', 'a fine passphrase');
    // The relay is stored in its canonical form (no protocol path); consent to an insecure relay defaults to no.
    expect(await u.call('settings:get')).toEqual({
      relay: relay.url.replace(/\/v2$/, ''),
      allowInsecureRelay: false,
      autoLockMinutes: 15,
      theme: 'system',
      language: 'en',
      notifications: true,
      notificationContent: 'name',
      autoDownloadImagesMb: 10,
      autoDownloadOnMetered: false,
    });
    expect(await u.call('settings:set', { theme: 'dark', autoLockMinutes: 5 })).toMatchObject({
      theme: 'dark',
      autoLockMinutes: 5,
    });
    expect(() => methods['settings:set'].input.parse({ theme: 'neon' })).toThrow();
    await u.call('profile:change-passphrase', {
      current: 'a fine passphrase',
      next: 'another fine one',
    });
    await u.call('profile:lock');
    expect(
      await rejectedCode(() => u.call('profile:unlock', { passphrase: 'a fine passphrase' })),
    ).toBe('WRONG_PASSPHRASE');
    expect((await u.call('profile:unlock', { passphrase: 'another fine one' })).phase).toBe(
      'unlocked',
    );
    expect((await u.call('settings:get')).theme).toBe('dark');
  });

  it('exports a backup after the app was locked and unlocked', async () => {
    const { alice, aliceChat } = await pair();
    await alice.call('messages:send', { conversationId: aliceChat, body: 'before the lock' });
    await alice.call('profile:lock');
    await alice.call('profile:unlock', { passphrase: 'alice passphrase' });
    const exported = await alice.call(
      'backup:export',
      { recoveryKey: true },
      join(tempDir(), 'after-lock.age'),
    );
    expect(exported.messages).toBe(1);
  });

  it('exports a backup, verifies it, restores it at first run and merges it twice without duplicates', async () => {
    const { alice, aliceChat } = await pair();
    for (const body of ['one', 'two', 'three'])
      await alice.call('messages:send', { conversationId: aliceChat, body });
    const backup = join(tempDir(), 'alice.age');
    const exported = await alice.call('backup:export', { recoveryKey: true }, backup);
    expect(exported.messages).toBe(3);
    expect(exported.recoveryKey).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5})+$/);
    expect(alice.events.some((e) => e.event === 'backup:progress')).toBe(true);
    const summary = await alice.call('backup:verify', { passphrase: exported.recoveryKey }, backup);
    expect(summary).toMatchObject({ messages: 3, contacts: 1, conversations: 1 });
    expect(
      await rejectedCode(() =>
        alice.call('backup:verify', { passphrase: 'not the recovery key' }, backup),
      ),
    ).toBe('WRONG_BACKUP_PASSPHRASE');

    // Merging into the same profile (after confirming the profile passphrase) adds nothing.
    expect(
      await rejectedCode(() =>
        alice.call(
          'backup:restore',
          { passphrase: exported.recoveryKey, profilePassphrase: 'wrong one!' },
          backup,
        ),
      ),
    ).toBe('WRONG_PASSPHRASE');
    const merged = await alice.call(
      'backup:restore',
      { passphrase: exported.recoveryKey, profilePassphrase: 'alice passphrase' },
      backup,
    );
    expect(merged).toMatchObject({ added: 0, state: { phase: 'unlocked' } });
    expect(
      await alice.call('messages:page', { conversationId: aliceChat, limit: 10 }),
    ).toHaveLength(3);

    // A new machine: restore at first run, then the history is there.
    const restored = user();
    const result = await restored.call(
      'backup:restore',
      {
        passphrase: exported.recoveryKey,
        protect: { passphrase: 'new machine passphrase', useKeychain: false },
      },
      backup,
    );
    expect(result).toMatchObject({ added: 3, state: { phase: 'unlocked', displayName: 'Alice' } });
    const [conversation] = await restored.call('conversations:list');
    expect(
      (await restored.call('messages:page', { conversationId: conversation!.id, limit: 10 })).map(
        (m) => m.body,
      ),
    ).toEqual(['three', 'two', 'one']);
    expect(
      await rejectedCode(() =>
        restored.call('backup:export', { passphrase: 'password' }, join(tempDir(), 'x.age')),
      ),
    ).toBe('WEAK_PASSPHRASE');
  });

  it('exports a conversation as readable HTML, and refuses a file method without a chosen file', async () => {
    const { alice, aliceChat } = await pair();
    await alice.call('messages:send', { conversationId: aliceChat, body: '<b>not bold</b>' });
    const file = join(tempDir(), 'chat.html');
    expect(
      await alice.call('export:conversation', { conversationId: aliceChat, format: 'html' }, file),
    ).toEqual({ messages: 1 });
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('&#60;b&#62;not bold&#60;/b&#62;'); // escaped, never live markup
    expect(html).not.toContain('<b>not bold');
    expect(
      await rejectedCode(() =>
        alice.call('export:conversation', { conversationId: aliceChat, format: 'md' }),
      ),
    ).toBe('INVALID_INPUT');
  });
});
