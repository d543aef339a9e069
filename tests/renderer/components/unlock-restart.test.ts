import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import UnlockView from '../../../renderer/src/views/UnlockView.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { plugins, settle, setUp, testRouter } from '../helpers.ts';

// Issue 11: when the core worker crashed and main restarted it, the profile
// is closed again; the UI learns it from `app:locked` with reason 'restart'.

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(() => {
  ({ fake, pinia } = setUp());
});

describe('a restarted core', () => {
  it('puts the app on the lock screen, which says why, and unlocking works as usual', async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    const app = useAppStore();
    await app.ensureLoaded();
    const disconnect = connectBridgeEvents();
    fake.state = { ...fake.state, phase: 'locked' };
    fake.emit('app:locked', { reason: 'restart' });
    await settle();
    expect(app.unlocked).toBe(false);
    expect(app.lockedReason).toBe('restart');

    const router = testRouter([
      { path: '/', name: 'home', component: { template: '<p>home</p>' } },
      { path: '/unlock', name: 'unlock', component: UnlockView },
    ]);
    await router.push('/unlock');
    const wrapper = mount(UnlockView, { global: { plugins: plugins(pinia, router) } });
    expect(wrapper.get('[data-testid="unlock-restarted"]').text()).toBe(
      'Sotto had a problem and restarted. Unlock to continue; nothing was lost.',
    );
    expect(wrapper.text()).not.toContain('without activity');
    await wrapper.get('[data-testid="unlock-passphrase"]').setValue('right passphrase');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(app.unlocked).toBe(true);
    disconnect();
  });
});
