import { beforeEach, describe, expect, it } from 'vitest';
import type { Pinia } from 'pinia';
import { mount } from '@vue/test-utils';
import App from '../../renderer/src/App.vue';
import { createAppRouter } from '../../renderer/src/router.ts';
import { useAppStore } from '../../renderer/src/stores/app.ts';
import type { FakeBridge } from './fake-bridge.ts';
import { plugins, settle, setUp } from './helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(() => {
  ({ fake, pinia } = setUp());
  window.location.hash = '';
});

describe('route guards', () => {
  it('with no profile, every route leads to /welcome', async () => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: false,
      unlockWith: null,
    };
    const router = createAppRouter(pinia);
    await router.push('/settings');
    expect(router.currentRoute.value.name).toBe('welcome');
  });

  it('a locked profile leads to /unlock, even for a deep link into a chat', async () => {
    const router = createAppRouter(pinia);
    await router.push('/chat/7');
    expect(router.currentRoute.value.name).toBe('unlock');
  });

  it('unlocked, the main routes open and /unlock or /welcome send home', async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    const router = createAppRouter(pinia);
    await router.push('/chat/7');
    expect(router.currentRoute.value.name).toBe('chat');
    expect(router.currentRoute.value.params['id']).toBe('7');
    await router.push('/unlock');
    expect(router.currentRoute.value.name).toBe('home');
    await router.push('/welcome');
    expect(router.currentRoute.value.name).toBe('home');
  });

  it('a group route takes only a well-formed group id; anything else goes home', async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    const router = createAppRouter(pinia);
    const good = `${'a-b_'.repeat(10)}xyz=`;
    await router.push(`/group/${good}`);
    expect(router.currentRoute.value.name).toBe('group');
    expect(router.currentRoute.value.params['groupId']).toBe(good);
    for (const forged of ['/group/..%2Fsettings', `/group/${'A'.repeat(44)}`, '/group/a%2Fb=']) {
      await router.push(forged);
      expect(router.currentRoute.value.name, forged).toBe('home');
    }
    await router.push('/groups/new');
    expect(router.currentRoute.value.name).toBe('new-group');
  });

  it('after locking, the main routes are closed again', async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    const router = createAppRouter(pinia);
    await router.push('/settings');
    await useAppStore().lock();
    await router.push('/chat/3');
    expect(router.currentRoute.value.name).toBe('unlock');
  });

  it('uses hash history (the app is a single file behind app://sotto/index.html)', async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    const router = createAppRouter(pinia);
    await router.push('/settings');
    expect(window.location.hash).toBe('#/settings');
  });

  it('a first run opened at /restore stays there (the phase arriving does not send it to /welcome)', async () => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: false,
      unlockWith: null,
    };
    const router = createAppRouter(pinia);
    const wrapper = mount(App, { global: { plugins: plugins(pinia, router) } });
    await router.push('/restore');
    await settle();
    expect(router.currentRoute.value.name).toBe('restore');
    expect(wrapper.find('[data-testid="restore-submit"]').exists()).toBe(true);
    wrapper.unmount();
  });
});
