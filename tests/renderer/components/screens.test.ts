import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import UnlockView from '../../../renderer/src/views/UnlockView.vue';
import WelcomeView from '../../../renderer/src/views/WelcomeView.vue';
import OfflineBanner from '../../../renderer/src/components/OfflineBanner.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useSyncStore } from '../../../renderer/src/stores/sync.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { plugins, settle, setUp, testRouter, waitForScore } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(() => {
  ({ fake, pinia } = setUp());
});

function router() {
  return testRouter([
    { path: '/', name: 'home', component: { template: '<p>home</p>' } },
    { path: '/unlock', name: 'unlock', component: UnlockView },
    { path: '/welcome', name: 'welcome', component: WelcomeView },
    { path: '/restore', name: 'restore', component: { template: '<p>restore</p>' } },
  ]);
}

describe('the unlock screen', () => {
  it('a wrong passphrase shows the locale sentence in an alert; the right one goes home', async () => {
    await useAppStore().ensureLoaded();
    const r = router();
    await r.push('/unlock');
    const wrapper = mount(UnlockView, { global: { plugins: plugins(pinia, r) } });
    await wrapper.get('[data-testid="unlock-passphrase"]').setValue('wrong');
    await wrapper.get('form').trigger('submit');
    await settle();
    const error = wrapper.get('[data-testid="unlock-error"]');
    expect(error.attributes('role')).toBe('alert');
    expect(error.text()).toBe(
      'That passphrase does not unlock this profile. Check it and try again.',
    );
    expect(wrapper.get('[data-testid="unlock-passphrase"]').attributes('aria-invalid')).toBe(
      'true',
    );

    await wrapper.get('[data-testid="unlock-passphrase"]').setValue('right passphrase');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(r.currentRoute.value.name).toBe('home');
    expect(useAppStore().unlocked).toBe(true);
  });

  it('a keychain profile gets an unlock button and no passphrase field', async () => {
    fake.state = { ...fake.state, unlockWith: 'keychain' };
    await useAppStore().ensureLoaded();
    const r = router();
    await r.push('/unlock');
    const wrapper = mount(UnlockView, { global: { plugins: plugins(pinia, r) } });
    expect(wrapper.find('[data-testid="unlock-passphrase"]').exists()).toBe(false);
    await wrapper.get('[data-testid="unlock-keychain"]').trigger('click');
    await settle();
    expect(fake.callsOf('profile:unlock')).toEqual([{}]);
  });
});

describe('the first-run screen', () => {
  beforeEach(() => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: false,
      unlockWith: null,
    };
  });

  async function fill(
    wrapper: ReturnType<typeof mount>,
    values: { name: string; pass: string; confirm: string; relay: string },
  ) {
    await wrapper.get('[data-testid="welcome-name"]').setValue(values.name);
    await wrapper.get('[data-testid="welcome-passphrase"]').setValue(values.pass);
    await wrapper.get('[data-testid="welcome-passphrase-confirm"]').setValue(values.confirm);
    await wrapper.get('[data-testid="welcome-relay"]').setValue(values.relay);
  }

  it('creates the profile, then shows the invite link and its QR code', async () => {
    await useAppStore().ensureLoaded();
    const r = router();
    await r.push('/welcome');
    const wrapper = mount(WelcomeView, { global: { plugins: plugins(pinia, r) } });
    await fill(wrapper, {
      name: 'Ada',
      pass: 'correct horse battery staple',
      confirm: 'correct horse battery staple',
      relay: 'ws://127.0.0.1:8787',
    });
    expect(await waitForScore(wrapper)).toBe('4');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('profile:create')).toEqual([
      {
        displayName: 'Ada',
        useKeychain: false,
        relay: 'ws://127.0.0.1:8787',
        passphrase: 'correct horse battery staple',
      },
    ]);
    const link = wrapper.get('[data-testid="invite-link"]');
    expect((link.element as HTMLInputElement).value).toBe('sotto://invite/1#fake-invite');
    await wrapper.get('[data-testid="invite-continue"]').trigger('click');
    await settle();
    expect(r.currentRoute.value.name).toBe('home');
  });

  it('refuses a weak passphrase, a mismatch and a relay that is neither ws(s):// nor a folder', async () => {
    await useAppStore().ensureLoaded();
    const wrapper = mount(WelcomeView, { global: { plugins: plugins(pinia, router()) } });
    await fill(wrapper, {
      name: 'Ada',
      pass: 'password1',
      confirm: 'password2',
      relay: 'http://relay.example',
    });
    expect(Number(await waitForScore(wrapper))).toBeLessThan(3);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('profile:create')).toEqual([]);
    const text = wrapper.text();
    expect(text).toContain('Choose a stronger passphrase.');
    expect(text).toContain('The two passphrases are not the same.');
    expect(text).toContain('Enter a ws:// or wss:// address, or a folder path.');
  });

  it('offers the OS keychain only when app:state says it is secure', async () => {
    await useAppStore().ensureLoaded();
    const plain = mount(WelcomeView, { global: { plugins: plugins(pinia, router()) } });
    expect(plain.find('[data-testid="welcome-use-keychain"]').exists()).toBe(false);

    fake.state = { ...fake.state, keychainSecure: true };
    await useAppStore().load();
    const secure = mount(WelcomeView, { global: { plugins: plugins(pinia, router()) } });
    await secure.get('[data-testid="welcome-use-keychain"]').setValue(true);
    expect(secure.find('[data-testid="welcome-passphrase"]').exists()).toBe(false);
    await secure.get('[data-testid="welcome-name"]').setValue('Ada');
    await secure.get('[data-testid="welcome-relay"]').setValue('/srv/shared/relay');
    await secure.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('profile:create')).toEqual([
      { displayName: 'Ada', useKeychain: true, relay: '/srv/shared/relay' },
    ]);
  });
});

describe('the offline banner', () => {
  it('shows the outbox count while offline, follows sync:status events, and hides when online', async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    fake.sync = { connection: 'offline', outbox: 3, backlog: null, unread: 0 };
    await useAppStore().ensureLoaded();
    const disconnect = connectBridgeEvents();
    await useSyncStore().load();
    const wrapper = mount(OfflineBanner, { global: { plugins: plugins(pinia) } });
    expect(wrapper.get('[data-testid="offline-banner"]').text()).toContain('Offline');
    expect(wrapper.get('[data-testid="outbox-count"]').text()).toBe('3 messages waiting');

    fake.emit('sync:status', { connection: 'offline', outbox: 1, backlog: null, unread: 0 });
    await settle();
    expect(wrapper.get('[data-testid="outbox-count"]').text()).toBe('1 message waiting');

    fake.emit('sync:status', {
      connection: 'online',
      outbox: 0,
      backlog: { received: 120 },
      unread: 0,
    });
    await settle();
    expect(wrapper.find('[data-testid="offline-banner"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="backlog-progress"]').text()).toContain(
      'Catching up: 120 messages received',
    );
    disconnect();
  });
});
