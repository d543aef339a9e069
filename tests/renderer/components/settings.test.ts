import { beforeEach, describe, expect, it } from 'vitest';
import type { Pinia } from 'pinia';
import { useSettingsStore } from '../../../renderer/src/stores/settings.ts';
import { applyTheme } from '../../../renderer/src/theme.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { mountSettings, setUpUnlockedSettings } from '../settings-screen.ts';
import { settle, waitForScore } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = await setUpUnlockedSettings());
});

describe('settings', () => {
  it('is one page of titled sections, Backup last', async () => {
    const { wrapper } = await mountSettings(pinia);
    const headings = wrapper.findAll('section.settings-section > h2').map((h) => h.text());
    expect(headings).toEqual([
      'Your account',
      'Relay',
      'Security',
      'Appearance',
      'Notifications',
      'Downloads',
      'Backup',
    ]);
  });

  it('theme, auto-lock and notifications are saved through settings:set', async () => {
    const { wrapper } = await mountSettings(pinia);
    await wrapper.get('[data-testid="settings-theme-dark"]').setValue(true);
    await wrapper.get('[data-testid="settings-auto-lock"]').setValue('5');
    await wrapper.get('[data-testid="settings-notifications"]').setValue(false);
    await settle();
    expect(fake.callsOf('settings:set')).toEqual([
      { theme: 'dark' },
      { autoLockMinutes: 5 },
      { notifications: false },
    ]);
    expect(useSettingsStore().settings).toMatchObject({
      theme: 'dark',
      autoLockMinutes: 5,
      notifications: false,
    });
  });

  it('a relay that is not ws(s):// or a folder is refused before it reaches the core', async () => {
    const { wrapper } = await mountSettings(pinia);
    await wrapper.get('[data-testid="settings-relay"]').setValue('ftp://x');
    wrapper
      .get('[data-testid="settings-relay"]')
      .element.closest('form')
      ?.dispatchEvent(new Event('submit'));
    await settle();
    expect(wrapper.text()).toContain('Enter a ws:// or wss:// address, or a folder path.');
    expect(fake.callsOf('settings:set')).toEqual([]);
    await wrapper.get('[data-testid="settings-relay"]').setValue('wss://other.example');
    wrapper
      .get('[data-testid="settings-relay"]')
      .element.closest('form')
      ?.dispatchEvent(new Event('submit'));
    await settle();
    expect(fake.callsOf('settings:set')).toEqual([{ relay: 'wss://other.example' }]);
  });

  it('change passphrase reports a wrong current passphrase in words', async () => {
    const { wrapper } = await mountSettings(pinia);
    await wrapper.get('[data-testid="settings-current-passphrase"]').setValue('not it');
    await wrapper
      .get('[data-testid="settings-new-passphrase"]')
      .setValue('correct horse battery staple');
    await wrapper
      .get('[data-testid="settings-confirm-passphrase"]')
      .setValue('correct horse battery staple');
    await waitForScore(wrapper);
    wrapper
      .get('[data-testid="settings-change-passphrase"]')
      .element.closest('form')
      ?.dispatchEvent(new Event('submit'));
    await settle();
    expect(fake.callsOf('profile:change-passphrase')).toEqual([
      { current: 'not it', next: 'correct horse battery staple' },
    ]);
    expect(wrapper.get('[data-testid="settings-passphrase-error"]').text()).toBe(
      'That passphrase does not unlock this profile. Check it and try again.',
    );
  });

  it('Lock now locks and goes to the unlock screen', async () => {
    const { wrapper, router } = await mountSettings(pinia);
    await wrapper.get('[data-testid="settings-lock-now"]').trigger('click');
    await settle();
    expect(fake.state.phase).toBe('locked');
    expect(router.currentRoute.value.name).toBe('unlock');
  });
});

describe('the theme', () => {
  it('is a class on <html>; "system" removes it so prefers-color-scheme applies', () => {
    const root = document.createElement('html');
    applyTheme('dark', root);
    expect([...root.classList]).toEqual(['theme-dark']);
    applyTheme('light', root);
    expect([...root.classList]).toEqual(['theme-light']);
    applyTheme('system', root);
    expect([...root.classList]).toEqual([]);
  });
});

describe('Settings → Security → Reset identity', () => {
  it('warns first, needs the passphrase, and shows the new account id once the core reset it', async () => {
    const { wrapper } = await mountSettings(pinia);
    expect(wrapper.find('[data-testid="identity-reset-confirm"]').exists()).toBe(false);
    await wrapper.get('[data-testid="identity-reset-start"]').trigger('click');
    expect(wrapper.get('[data-testid="identity-reset"]').text()).toContain(
      'Your old key is deleted for good',
    );
    expect(fake.callsOf('profile:reset-identity')).toEqual([]);

    await wrapper.get('[data-testid="identity-reset-passphrase"]').setValue('wrong');
    await wrapper.get('[data-testid="identity-reset-confirm"]').trigger('submit');
    await settle();
    expect(wrapper.get('[data-testid="identity-reset-error"]').text()).toBe(
      'That passphrase does not unlock this profile. Check it and try again.',
    );
    expect(wrapper.get('[data-testid="account-id"]').text()).not.toBe(
      fakeAccountId('RESETACCOUNT'),
    );

    await wrapper.get('[data-testid="identity-reset-passphrase"]').setValue(fake.passphrase);
    await wrapper.get('[data-testid="identity-reset-confirm"]').trigger('submit');
    await settle();
    expect(fake.callsOf('profile:reset-identity').at(-1)).toEqual({ passphrase: fake.passphrase });
    expect(wrapper.get('[data-testid="identity-reset-done"]').isVisible()).toBe(true);
    expect(wrapper.get('[data-testid="account-id"]').text()).toBe(fakeAccountId('RESETACCOUNT'));
  });
});
