import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import SettingsBackupSection from '../../../renderer/src/components/settings/SettingsBackupSection.vue';
import RestoreView from '../../../renderer/src/views/RestoreView.vue';
import WelcomeView from '../../../renderer/src/views/WelcomeView.vue';
import MainLayout from '../../../renderer/src/views/MainLayout.vue';
import { createAppRouter } from '../../../renderer/src/router.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useBackupStore } from '../../../renderer/src/stores/backup.ts';
import { fakeAccountId } from '../fake-bridge.ts';
import { useNoticesStore } from '../../../renderer/src/stores/notices.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { en, plugins, settle, setUp, waitFor, waitForScore } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;
let disconnect: () => void;

beforeEach(() => {
  ({ fake, pinia } = setUp());
  disconnect = connectBridgeEvents();
});

afterEach(() => disconnect());

const STRONG = 'correct horse battery staple';

function submitFormOf(wrapper: VueWrapper, testid: string): Promise<void> {
  wrapper
    .get(`[data-testid="${testid}"]`)
    .element.closest('form')
    ?.dispatchEvent(new Event('submit'));
  return settle();
}

describe('Settings → Backup', () => {
  beforeEach(async () => {
    fake.state = { ...fake.state, phase: 'unlocked' };
    await useAppStore().ensureLoaded();
  });

  function mountSection() {
    return mount(SettingsBackupSection, {
      global: { plugins: plugins(pinia) },
      attachTo: document.body,
    });
  }

  it('switches between a chosen passphrase and a generated recovery key', async () => {
    const wrapper = mountSection();
    expect(wrapper.find('[data-testid="backup-passphrase"]').exists()).toBe(true);
    expect(wrapper.find('[data-testid="backup-passphrase-confirm"]').exists()).toBe(true);
    await wrapper.get('[data-testid="backup-mode-recovery"]').setValue(true);
    expect(wrapper.find('[data-testid="backup-passphrase"]').exists()).toBe(false);
    expect(wrapper.text()).toContain(en.backup.recoveryHint);
    await submitFormOf(wrapper, 'backup-export');
    expect(fake.callsOf('backup:export')).toEqual([{ recoveryKey: true }]);
    wrapper.unmount();
  });

  it('refuses a passphrase scored below 3 or not repeated the same, before the core sees it', async () => {
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-passphrase"]').setValue('password1');
    await wrapper.get('[data-testid="backup-passphrase-confirm"]').setValue('password1');
    expect(Number(await waitForScore(wrapper))).toBeLessThan(3);
    await submitFormOf(wrapper, 'backup-export');
    expect(fake.callsOf('backup:export')).toEqual([]);
    expect(wrapper.text()).toContain(en.welcome.tooWeak);
    expect(wrapper.get('[data-testid="backup-passphrase"]').attributes('aria-invalid')).toBe(
      'true',
    );

    await wrapper.get('[data-testid="backup-passphrase"]').setValue(STRONG);
    await wrapper.get('[data-testid="backup-passphrase-confirm"]').setValue(`${STRONG}!`);
    expect(Number(await waitForScore(wrapper))).toBeGreaterThanOrEqual(3);
    await submitFormOf(wrapper, 'backup-export');
    expect(fake.callsOf('backup:export')).toEqual([]);
    expect(wrapper.text()).toContain(en.welcome.mismatch);

    await wrapper.get('[data-testid="backup-passphrase-confirm"]').setValue(STRONG);
    await submitFormOf(wrapper, 'backup-export');
    expect(fake.callsOf('backup:export')).toEqual([{ passphrase: STRONG }]);
    expect(wrapper.get('[data-testid="backup-done"]').text()).toBe('Backup saved: 0 messages.');
    // The passphrase does not linger in the form.
    expect(
      (wrapper.get('[data-testid="backup-passphrase"]').element as HTMLInputElement).value,
    ).toBe('');
    wrapper.unmount();
  });

  it('shows a progress bar with its values and a Cancel button while the backup is written', async () => {
    fake.holdBackups = true;
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-mode-recovery"]').setValue(true);
    await submitFormOf(wrapper, 'backup-export');
    const bar = wrapper.get('[data-testid="backup-progress"]');
    expect(bar.attributes('role')).toBe('progressbar');
    expect(bar.attributes('aria-valuenow')).toBe('0');
    expect(bar.attributes('aria-valuemax')).toBe('4');
    expect(wrapper.get('[data-testid="backup-export"]').attributes('disabled')).toBeDefined();

    fake.emit('backup:progress', { operation: 'export', phase: 'export', done: 3, total: 4 });
    await settle();
    expect(wrapper.get('[data-testid="backup-progress"]').attributes('aria-valuenow')).toBe('3');
    expect(wrapper.get('[data-testid="backup-progress"]').attributes('aria-valuetext')).toBe(
      '3 of 4',
    );

    await wrapper.get('[data-testid="backup-cancel"]').trigger('click');
    await settle();
    expect(fake.callsOf('backup:cancel')).toEqual([{}]);
    expect(wrapper.find('[data-testid="backup-progress"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="backup-error"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="backup-done"]').exists()).toBe(false);
    expect(useNoticesStore().notices).toEqual([]);
    expect(wrapper.get('[data-testid="backup-export"]').attributes('disabled')).toBeUndefined();
    wrapper.unmount();
  });

  it('shows the recovery key once, grouped, and removes it from the page after "I have written it down"', async () => {
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-mode-recovery"]').setValue(true);
    await submitFormOf(wrapper, 'backup-export');
    const key = wrapper.get('[data-testid="backup-recovery-key"]');
    expect(key.findAll('.recovery-group').map((g) => g.text())).toEqual(
      fake.recoveryKey.split('-'),
    );
    expect(key.classes()).toContain('mono');
    expect(document.activeElement?.getAttribute('role')).toBe('dialog');

    await wrapper.get('[data-testid="backup-recovery-done"]').trigger('click');
    expect(wrapper.find('[data-testid="backup-recovery-key"]').exists()).toBe(false);
    expect(document.body.innerHTML).not.toContain('ABCDE');
    expect(useBackupStore().recoveryKey).toBeNull();
    expect(wrapper.find('[data-testid="backup-done"]').exists()).toBe(true);
    expect(document.activeElement).toBe(wrapper.get('[data-testid="backup-export"]').element);
    wrapper.unmount();
  });

  it('a core refusal is shown in words; a wrong passphrase speaks of the backup, not the profile', async () => {
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-verify-passphrase"]').setValue('not it');
    await submitFormOf(wrapper, 'backup-verify');
    expect(wrapper.get('[data-testid="backup-error"]').text()).toBe(
      en.errors.WRONG_BACKUP_PASSPHRASE,
    );
    expect(wrapper.get('[data-testid="backup-error"]').attributes('role')).toBe('alert');

    fake.fail('backup:verify', 'BACKUP_TAMPERED');
    await wrapper.get('[data-testid="backup-verify-passphrase"]').setValue('backup passphrase');
    await submitFormOf(wrapper, 'backup-verify');
    expect(wrapper.get('[data-testid="backup-error"]').text()).toBe(en.errors.BACKUP_TAMPERED);
    expect(wrapper.find('[data-testid="backup-summary"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('verify shows the manifest and whether the backup is this account’s', async () => {
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-verify-passphrase"]').setValue('backup passphrase');
    await submitFormOf(wrapper, 'backup-verify');
    const summary = wrapper.get('[data-testid="backup-summary"]');
    expect(summary.attributes('data-account-matches')).toBe('true');
    expect(summary.get('[data-testid="backup-summary-messages"]').text()).toBe('1,234');
    expect(summary.text()).toContain(en.backup.accountMatches);
    expect(summary.text()).toContain('2024');

    fake.backupSummary = { ...fake.backupSummary, accountId: fakeAccountId('SOMEONE-ELSE') };
    await wrapper.get('[data-testid="backup-verify-passphrase"]').setValue('backup passphrase');
    await submitFormOf(wrapper, 'backup-verify');
    expect(wrapper.get('[data-testid="backup-summary"]').attributes('data-account-matches')).toBe(
      'false',
    );
    expect(wrapper.get('[data-testid="backup-summary"]').text()).toContain(
      en.backup.accountDiffers,
    );
    wrapper.unmount();
  });

  it('restore into this profile asks for both passphrases and says how many messages were added (none the second time)', async () => {
    const wrapper = mountSection();
    expect(wrapper.text()).toContain('restoring the same backup twice adds nothing');
    await wrapper.get('[data-testid="backup-restore-passphrase"]').setValue('backup passphrase');
    await submitFormOf(wrapper, 'backup-restore');
    expect(fake.callsOf('backup:restore')).toEqual([]);
    expect(wrapper.text()).toContain(en.backup.profilePassphraseMissing);

    await wrapper
      .get('[data-testid="backup-restore-profile-passphrase"]')
      .setValue('right passphrase');
    await submitFormOf(wrapper, 'backup-restore');
    expect(fake.callsOf('backup:restore')).toEqual([
      { passphrase: 'backup passphrase', profilePassphrase: 'right passphrase' },
    ]);
    expect(wrapper.get('[data-testid="backup-restore-done"]').text()).toBe(
      'Restored: 42 messages added.',
    );

    await wrapper.get('[data-testid="backup-restore-passphrase"]').setValue('backup passphrase');
    await wrapper
      .get('[data-testid="backup-restore-profile-passphrase"]')
      .setValue('right passphrase');
    await submitFormOf(wrapper, 'backup-restore');
    expect(wrapper.get('[data-testid="backup-restore-done"]').text()).toBe(en.backup.restoredNone);
    wrapper.unmount();
  });

  it("restoring into the open profile names the passphrase that was wrong: the backup's or the profile's", async () => {
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-restore-passphrase"]').setValue('not the backup one');
    await wrapper
      .get('[data-testid="backup-restore-profile-passphrase"]')
      .setValue('right passphrase');
    await submitFormOf(wrapper, 'backup-restore');
    expect(wrapper.get('[data-testid="backup-error"]').text()).toBe(
      en.errors.WRONG_BACKUP_PASSPHRASE,
    );

    await wrapper.get('[data-testid="backup-restore-passphrase"]').setValue('backup passphrase');
    await wrapper
      .get('[data-testid="backup-restore-profile-passphrase"]')
      .setValue('not the profile one');
    await submitFormOf(wrapper, 'backup-restore');
    expect(wrapper.get('[data-testid="backup-error"]').text()).toBe(en.errors.WRONG_PASSPHRASE);
    expect(en.errors.WRONG_PASSPHRASE).not.toBe(en.errors.WRONG_BACKUP_PASSPHRASE);
    expect(wrapper.find('[data-testid="backup-restore-done"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('a backup of another account is refused with its sentence', async () => {
    fake.backupSummary = { ...fake.backupSummary, accountId: fakeAccountId('SOMEONE-ELSE') };
    const wrapper = mountSection();
    await wrapper.get('[data-testid="backup-restore-passphrase"]').setValue('backup passphrase');
    await wrapper
      .get('[data-testid="backup-restore-profile-passphrase"]')
      .setValue('right passphrase');
    await submitFormOf(wrapper, 'backup-restore');
    expect(wrapper.get('[data-testid="backup-error"]').text()).toBe(en.errors.BACKUP_WRONG_ACCOUNT);
    expect(wrapper.find('[data-testid="backup-restore-done"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('"Export all conversations" exports with no conversation id', async () => {
    fake.addConversation({ id: 1 });
    fake.addConversation({ id: 2 });
    fake.addMessages(1, 5);
    fake.addMessages(2, 7);
    const wrapper = mountSection();
    await wrapper.get('[data-testid="export-all-open"]').trigger('click');
    await wrapper.get('[data-testid="export-format"]').setValue('md');
    await submitFormOf(wrapper, 'export-submit');
    expect(fake.callsOf('export:conversation')).toEqual([{ conversationId: null, format: 'md' }]);
    expect(wrapper.get('[data-testid="export-done"]').text()).toBe('Exported 12 messages.');
    wrapper.unmount();
  });
});

describe('restore from a backup at first run', () => {
  beforeEach(() => {
    fake.state = {
      phase: 'no-profile',
      accountId: null,
      displayName: null,
      keychainSecure: false,
      unlockWith: null,
    };
    window.location.hash = '';
  });

  async function openRestore() {
    const router = createAppRouter(pinia);
    await router.push('/restore');
    const wrapper = mount(RestoreView, {
      global: { plugins: plugins(pinia, router) },
      attachTo: document.body,
    });
    return { router, wrapper };
  }

  it('is a route of the first run only', async () => {
    const { router, wrapper } = await openRestore();
    expect(router.currentRoute.value.name).toBe('restore');
    wrapper.unmount();
    fake.state = {
      ...fake.state,
      phase: 'locked',
      accountId: fakeAccountId('ACCOUNT'),
      unlockWith: 'passphrase',
    };
    await useAppStore().load();
    await router.push('/restore');
    expect(router.currentRoute.value.name).toBe('unlock');
  });

  it('restores into a new profile protected by a new passphrase, then opens the main layout', async () => {
    const { router, wrapper } = await openRestore();
    await wrapper.get('[data-testid="restore-passphrase"]').setValue('backup passphrase');
    await wrapper.get('[data-testid="restore-new-passphrase"]').setValue(STRONG);
    await wrapper.get('[data-testid="restore-new-passphrase-confirm"]').setValue(STRONG);
    expect(Number(await waitForScore(wrapper))).toBeGreaterThanOrEqual(3);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('backup:restore')).toEqual([
      { passphrase: 'backup passphrase', protect: { passphrase: STRONG, useKeychain: false } },
    ]);
    expect(useAppStore().phase).toBe('unlocked');
    expect(router.currentRoute.value.name).toBe('home');
    expect(router.currentRoute.value.matched[0]?.components?.['default']).toBe(MainLayout);
    wrapper.unmount();
  });

  it('a Restore pressed in the same moment the passphrase is typed waits for its score instead of refusing it', async () => {
    const { wrapper } = await openRestore();
    await wrapper.get('[data-testid="restore-passphrase"]').setValue('backup passphrase');
    // Typed (a password manager's fill) and submitted in one go: no score yet.
    for (const testid of ['restore-new-passphrase', 'restore-new-passphrase-confirm']) {
      const input = wrapper.get(`[data-testid="${testid}"]`).element as HTMLInputElement;
      input.value = STRONG;
      input.dispatchEvent(new Event('input'));
    }
    wrapper.get('form').element.dispatchEvent(new Event('submit'));
    await waitFor(() => fake.callsOf('backup:restore').length > 0, 'the restore call');
    expect(fake.callsOf('backup:restore')).toEqual([
      { passphrase: 'backup passphrase', protect: { passphrase: STRONG, useKeychain: false } },
    ]);
    wrapper.unmount();
  });

  it('refuses a weak new passphrase, and shows a wrong backup passphrase in words', async () => {
    const { router, wrapper } = await openRestore();
    await wrapper.get('[data-testid="restore-passphrase"]').setValue('backup passphrase');
    await wrapper.get('[data-testid="restore-new-passphrase"]').setValue('password1');
    await wrapper.get('[data-testid="restore-new-passphrase-confirm"]').setValue('password1');
    expect(Number(await waitForScore(wrapper))).toBeLessThan(3);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('backup:restore')).toEqual([]);
    expect(wrapper.text()).toContain(en.welcome.tooWeak);

    await wrapper.get('[data-testid="restore-passphrase"]').setValue('not it');
    await wrapper.get('[data-testid="restore-new-passphrase"]').setValue(STRONG);
    await wrapper.get('[data-testid="restore-new-passphrase-confirm"]').setValue(STRONG);
    await waitForScore(wrapper);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(wrapper.get('[data-testid="restore-error"]').text()).toBe(
      en.errors.WRONG_BACKUP_PASSPHRASE,
    );
    expect(router.currentRoute.value.name).toBe('restore');
    expect(useAppStore().phase).toBe('no-profile');
    wrapper.unmount();
  });

  it('with a secure keychain, the restored profile can be protected by it', async () => {
    fake.state = { ...fake.state, keychainSecure: true };
    const { router, wrapper } = await openRestore();
    await wrapper.get('[data-testid="restore-use-keychain"]').setValue(true);
    expect(wrapper.find('[data-testid="restore-new-passphrase"]').exists()).toBe(false);
    await wrapper.get('[data-testid="restore-passphrase"]').setValue(fake.recoveryKey);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('backup:restore')).toEqual([
      { passphrase: fake.recoveryKey, protect: { useKeychain: true } },
    ]);
    expect(router.currentRoute.value.name).toBe('home');
    wrapper.unmount();
  });

  it('the welcome screen links to it', async () => {
    const router = createAppRouter(pinia);
    await router.push('/welcome');
    const wrapper = mount(WelcomeView, { global: { plugins: plugins(pinia, router) } });
    await wrapper.get('[data-testid="welcome-restore"]').trigger('click');
    await settle();
    expect(router.currentRoute.value.name).toBe('restore');
    wrapper.unmount();
  });
});
