import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import SettingsView from '../../../renderer/src/views/SettingsView.vue';
import WelcomeView from '../../../renderer/src/views/WelcomeView.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useSettingsStore } from '../../../renderer/src/stores/settings.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { en, plugins, settle, setUp, testRouter } from '../helpers.ts';

// An unencrypted ws:// relay on another computer needs the user's explicit
// confirmation (allowInsecureRelay), at first run and in Settings; nothing
// else asks for it, and without it nothing reaches the core.

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(() => {
  ({ fake, pinia } = setUp());
});

function router() {
  return testRouter([
    { path: '/', name: 'home', component: { template: '<p>home</p>' } },
    { path: '/unlock', name: 'unlock', component: { template: '<p>unlock</p>' } },
    { path: '/welcome', name: 'welcome', component: WelcomeView },
    { path: '/restore', name: 'restore', component: { template: '<p>restore</p>' } },
  ]);
}

describe('first run with an insecure relay', () => {
  beforeEach(() => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: true,
      unlockWith: null,
    };
  });

  async function welcome(relay: string) {
    await useAppStore().ensureLoaded();
    const wrapper = mount(WelcomeView, { global: { plugins: plugins(pinia, router()) } });
    await wrapper.get('[data-testid="welcome-use-keychain"]').setValue(true);
    await wrapper.get('[data-testid="welcome-name"]').setValue('Ada');
    await wrapper.get('[data-testid="welcome-relay"]').setValue(relay);
    return wrapper;
  }

  it('asks for confirmation of ws:// to another computer and sends nothing until it is given', async () => {
    const wrapper = await welcome('ws://192.168.1.5:8787');
    expect(wrapper.text()).toContain(en.relay.insecureWarning);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('profile:create')).toEqual([]);
    expect(wrapper.text()).toContain(en.relay.insecureRequired);
    await wrapper.get('[data-testid="relay-insecure-allow"]').setValue(true);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('profile:create')).toEqual([
      {
        displayName: 'Ada',
        useKeychain: true,
        relay: 'ws://192.168.1.5:8787',
        allowInsecureRelay: true,
      },
    ]);
  });

  it('does not ask for wss://, loopback ws:// or a folder, and refuses a network path', async () => {
    for (const relay of ['wss://relay.example.org', 'ws://127.0.0.1:8787', '/srv/shared/relay']) {
      const wrapper = await welcome(relay);
      expect(wrapper.find('[data-testid="relay-insecure-consent"]').exists(), relay).toBe(false);
    }
    const wrapper = await welcome('\\\\server\\share');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(wrapper.text()).toContain(en.welcome.relayInvalid);
    expect(fake.callsOf('profile:create')).toEqual([]);
  });
});

describe('Settings → relay with an insecure relay', () => {
  beforeEach(async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    await useAppStore().ensureLoaded();
    await useSettingsStore().load();
  });

  it('a new ws:// relay on another computer is saved only with the confirmation, which goes with it', async () => {
    const r = router();
    await r.push('/');
    const wrapper = mount(SettingsView, { global: { plugins: plugins(pinia, r) } });
    await settle();
    const input = wrapper.get('[data-testid="settings-relay"]');
    await input.setValue('ws://192.168.1.5:8787');
    input.element.closest('form')?.dispatchEvent(new Event('submit'));
    await settle();
    expect(fake.callsOf('settings:set')).toEqual([]);
    expect(wrapper.text()).toContain(en.relay.insecureRequired);
    await wrapper.get('[data-testid="relay-insecure-allow"]').setValue(true);
    input.element.closest('form')?.dispatchEvent(new Event('submit'));
    await settle();
    expect(fake.callsOf('settings:set')).toEqual([
      { relay: 'ws://192.168.1.5:8787', allowInsecureRelay: true },
    ]);
  });
});
