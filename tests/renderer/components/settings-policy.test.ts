import { beforeEach, describe, expect, it } from 'vitest';
import type { Pinia } from 'pinia';
import { useSettingsStore } from '../../../renderer/src/stores/settings.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { mountSettings, setUpUnlockedSettings } from '../settings-screen.ts';
import { settle } from '../helpers.ts';

// Settings → Notifications (what a notification shows) and the passphrase
// change when the core, not the meter, has the last word (issue 9 §3–4).

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = await setUpUnlockedSettings());
});

describe('notification content', () => {
  it('shows the stored choice (name only by default) and explains why', async () => {
    const { wrapper } = await mountSettings(pinia);
    const checked = (choice: string) =>
      (
        wrapper.get(`[data-testid="settings-notification-content-${choice}"]`)
          .element as HTMLInputElement
      ).checked;
    expect([checked('name'), checked('name-and-text'), checked('nothing')]).toEqual([
      true,
      false,
      false,
    ]);
    expect(wrapper.text()).toContain("outside Sotto's encrypted storage");
  });

  it('saves each choice through settings:set', async () => {
    const { wrapper } = await mountSettings(pinia);
    for (const choice of ['name-and-text', 'nothing', 'name'] as const) {
      await wrapper.get(`[data-testid="settings-notification-content-${choice}"]`).setValue(true);
      await settle();
    }
    expect(fake.callsOf('settings:set')).toEqual([
      { notificationContent: 'name-and-text' },
      { notificationContent: 'nothing' },
      { notificationContent: 'name' },
    ]);
    expect(useSettingsStore().settings).toMatchObject({ notificationContent: 'name' });
  });

  it('cannot be changed while notifications are off', async () => {
    fake.settings = { ...fake.settings, notifications: false };
    await useSettingsStore().load();
    const { wrapper } = await mountSettings(pinia);
    expect(
      wrapper
        .get('[data-testid="settings-notification-content-nothing"]')
        .element.closest('fieldset')?.disabled,
    ).toBe(true);
  });
});

describe('passphrase change', () => {
  it("shows the core's WEAK_PASSPHRASE in words when the meter let a passphrase through", async () => {
    fake.fail('profile:change-passphrase', 'WEAK_PASSPHRASE');
    const { wrapper } = await mountSettings(pinia);
    await wrapper.get('[data-testid="settings-current-passphrase"]').setValue('right passphrase');
    await wrapper
      .get('[data-testid="settings-new-passphrase"]')
      .setValue('correct horse battery staple');
    await wrapper
      .get('[data-testid="settings-confirm-passphrase"]')
      .setValue('correct horse battery staple');
    for (
      let i = 0;
      i < 50 && wrapper.get('[data-testid="passphrase-strength"]').attributes('data-score') === '';
      i++
    ) {
      await new Promise((done) => setTimeout(done, 20));
    }
    wrapper
      .get('[data-testid="settings-change-passphrase"]')
      .element.closest('form')
      ?.dispatchEvent(new Event('submit'));
    await settle();
    expect(fake.callsOf('profile:change-passphrase')).toHaveLength(1);
    expect(wrapper.get('[data-testid="settings-passphrase-error"]').text()).toBe(
      'That passphrase is too easy to guess. Add a few unrelated words.',
    );
  });
});
