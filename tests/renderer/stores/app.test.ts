import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import { useContactsStore } from '../../../renderer/src/stores/contacts.ts';
import { useSearchStore } from '../../../renderer/src/stores/search.ts';
import { useSyncStore } from '../../../renderer/src/stores/sync.ts';
import { useSettingsStore } from '../../../renderer/src/stores/settings.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { en, setUp } from '../helpers.ts';

let fake: FakeBridge;

beforeEach(() => {
  ({ fake } = setUp());
  fake.addConversation({
    id: 1,
    displayName: 'Carol',
    lastMessageAt: 5,
    lastMessagePreview: 'secret words',
    unreadCount: 2,
  });
  fake.addMessages(1, 20, { body: (i) => `secret ${i}` });
});

/** Unlocks and fills every store with profile data. */
async function unlockAndLoad() {
  const app = useAppStore();
  await app.ensureLoaded();
  expect(await app.unlock('right passphrase')).toBe(true);
  const conversations = useConversationsStore();
  const messages = useMessagesStore();
  await conversations.refresh();
  await conversations.open(1);
  await messages.openLatest(1);
  messages.setDraft(1, 'unsent draft', () => undefined);
  await useContactsStore().load();
  await useContactsStore().loadSafetyNumber(1);
  await useSearchStore().run('secret');
  await useSyncStore().load();
  await useSettingsStore().load();
  return { app, conversations, messages };
}

function expectEverythingForgotten(): void {
  const conversations = useConversationsStore();
  const messages = useMessagesStore();
  expect(conversations.list).toEqual([]);
  expect(conversations.active).toBeNull();
  expect(messages.messages).toEqual([]);
  expect(messages.conversationId).toBeNull();
  expect(messages.drafts).toEqual({});
  expect(useContactsStore().contacts).toEqual([]);
  expect(useContactsStore().safetyNumber).toBeNull();
  expect(useSearchStore().results).toEqual([]);
  expect(useSearchStore().query).toBe('');
  expect(useSyncStore().status).toBeNull();
  expect(useSettingsStore().settings).toBeNull();
}

describe('unlocking', () => {
  it('a wrong passphrase leaves the app locked with WRONG_PASSPHRASE, which has a sentence in the locale', async () => {
    const app = useAppStore();
    await app.ensureLoaded();
    expect(await app.unlock('nope')).toBe(false);
    expect(app.phase).toBe('locked');
    expect(app.unlockError).toBe('WRONG_PASSPHRASE');
    expect(en.errors.WRONG_PASSPHRASE).toMatch(/passphrase does not unlock/);
  });

  it('the right passphrase unlocks and clears the previous error', async () => {
    const app = useAppStore();
    await app.ensureLoaded();
    await app.unlock('nope');
    expect(await app.unlock('right passphrase')).toBe(true);
    expect(app.phase).toBe('unlocked');
    expect(app.unlockError).toBeNull();
    expect(fake.callsOf('profile:unlock').at(-1)).toEqual({ passphrase: 'right passphrase' });
  });

  it('a keychain profile unlocks without sending a passphrase', async () => {
    fake.state = { ...fake.state, unlockWith: 'keychain' };
    const app = useAppStore();
    await app.ensureLoaded();
    expect(await app.unlock()).toBe(true);
    expect(fake.callsOf('profile:unlock')).toEqual([{}]);
  });
});

describe('locking', () => {
  it('lock saves the pending draft, then every store forgets its data', async () => {
    vi.useFakeTimers();
    try {
      const { app } = await unlockAndLoad();
      expect(useConversationsStore().list).toHaveLength(1);
      await app.lock();
      expect(fake.callsOf('conversations:set-draft')).toEqual([
        { conversationId: 1, draft: 'unsent draft' },
      ]);
      expect(fake.callsOf('profile:lock')).toEqual([{ reason: 'user' }]);
      expect(app.phase).toBe('locked');
      expectEverythingForgotten();
    } finally {
      vi.useRealTimers();
    }
  });

  it('the core locking itself (app:locked event) resets every store too', async () => {
    const disconnect = connectBridgeEvents();
    const { app } = await unlockAndLoad();
    fake.emit('app:locked', { reason: 'idle' });
    expect(app.phase).toBe('locked');
    expect(app.lockedReason).toBe('idle');
    expectEverythingForgotten();
    disconnect();
    expect(fake.listenerCount('app:locked')).toBe(0);
  });

  it('nothing is written to web storage along the way', async () => {
    localStorage.clear();
    sessionStorage.clear();
    const { app } = await unlockAndLoad();
    await app.lock();
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });
});

describe('creating a profile', () => {
  it('sends the form and marks the profile as just created (to show the invite)', async () => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: false,
      unlockWith: null,
    };
    const app = useAppStore();
    await app.ensureLoaded();
    await app.create({
      displayName: 'Ada',
      passphrase: 'long enough words',
      useKeychain: false,
      relay: 'wss://r.example',
    });
    expect(app.phase).toBe('unlocked');
    expect(app.justCreated).toBe(true);
    expect(fake.callsOf('profile:create')).toEqual([
      {
        displayName: 'Ada',
        passphrase: 'long enough words',
        useKeychain: false,
        relay: 'wss://r.example',
      },
    ]);
  });
});
