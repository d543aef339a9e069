import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/profiles.ts';
import { addFromInvite, firstRun } from './support/conversation.ts';
import { createProfile, screenshot, useSuite } from './support/harness.ts';
import { expectAccessible } from './support/axe.ts';
import { expectInViewport } from './support/keyboard.ts';

// Backups from the app: Settings → Backup exports with a generated recovery
// key (shown once), verifies the file, and a new machine restores it at first
// run; a conversation is exported as HTML from its menu. Real cores, a real
// relay, the built renderer in Chromium; the test plays main's file dialogs.

const suite = useSuite();
const open = (dir: string) => suite.open(dir);

describe('backups in the app', () => {
  it('exports with a recovery key, verifies, restores on a new machine and exports a conversation', async () => {
    const alice = await open(join(tempDir(), 'alice'));
    const bob = await open(join(tempDir(), 'bob'));
    const invite = await firstRun(
      alice.page,
      'Alice',
      'alice has a long passphrase',
      suite.relay.url,
    );
    await createProfile(bob.page, 'Bob', 'bob has a long passphrase too', suite.relay.url);
    await bob.page.getByTestId('invite-continue').click();
    await addFromInvite(bob.page, invite);
    await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
    await bob.page.getByTestId('chat-composer').fill('A <message> worth keeping');
    await bob.page.getByTestId('chat-composer').press('Enter');
    const fromBob = alice.page
      .getByTestId('conversation-item')
      .filter({ hasText: 'worth keeping' });
    await expect.poll(() => fromBob.count(), { timeout: 90_000 }).toBe(1);

    // Export: a generated recovery key, shown once.
    const backupFile = join(tempDir(), 'alice-backup.age');
    const page = alice.page;
    await page.getByTestId('settings-open').click();
    await page.getByTestId('backup-mode-recovery').click();
    alice.dialogFiles.push(backupFile);
    // At 200% zoom of a 1200×800 window (600×400 CSS pixels) the key and its button stay in reach.
    await page.setViewportSize({ width: 600, height: 400 });
    await page.getByTestId('backup-export').click();
    const keyShown = page.getByTestId('backup-recovery-key');
    await expect.poll(() => keyShown.isVisible(), { timeout: 90_000 }).toBe(true);
    await expectInViewport(page, ['backup-recovery-key', 'backup-recovery-done']);
    await expectAccessible(page, 'recovery key shown, 200% zoom');
    await page.setViewportSize({ width: 1200, height: 800 });
    const recoveryKey = (await keyShown.getAttribute('data-value')) ?? '';
    expect(recoveryKey).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){5}$/);
    expect((await keyShown.textContent())?.replace(/\W/g, '')).toBe(recoveryKey.replace(/\W/g, '')); // shown in full
    expect(existsSync(backupFile)).toBe(true);
    await screenshot(page, '09-backup-recovery-key');
    await page.getByTestId('backup-recovery-done').click();
    expect(await page.getByTestId('backup-recovery-key').count()).toBe(0); // shown once: gone from the page

    // Verify the file: the summary counts one message.
    await page.getByTestId('backup-verify-passphrase').fill(recoveryKey);
    alice.dialogFiles.push(backupFile);
    await page.getByTestId('backup-verify').click();
    await expect
      .poll(() => page.getByTestId('backup-summary-messages').textContent(), { timeout: 90_000 })
      .toBe('1');
    expect(await page.getByTestId('backup-summary').getAttribute('data-account-matches')).toBe(
      'true',
    );
    await expectAccessible(page, 'settings, backup verified');

    // A new machine: restore at first run, and the history is there.
    const restored = await open(join(tempDir(), 'alice-restored'));
    await restored.page.getByTestId('welcome-restore').click();
    await restored.page.getByTestId('restore-passphrase').waitFor();
    await expectAccessible(restored.page, 'restore at first run');
    await restored.page.getByTestId('restore-passphrase').fill(recoveryKey.toLowerCase()); // typed casually: still accepted
    await restored.page
      .getByTestId('restore-new-passphrase')
      .fill('a new machine, a new passphrase');
    await restored.page
      .getByTestId('restore-new-passphrase-confirm')
      .fill('a new machine, a new passphrase');
    restored.dialogFiles.push(backupFile);
    await restored.page.getByTestId('restore-submit').click();
    const restoredItem = restored.page
      .getByTestId('conversation-item')
      .filter({ hasText: 'worth keeping' });
    await expect.poll(() => restoredItem.count(), { timeout: 90_000 }).toBe(1);
    await restoredItem.click();
    await expect
      .poll(() =>
        restored.page
          .getByTestId('message-row')
          .filter({ hasText: 'A <message> worth keeping' })
          .count(),
      )
      .toBe(1);

    // Export the conversation as one HTML file from its menu.
    const htmlFile = join(tempDir(), 'bob.html');
    await page.getByTestId('conversation-item').filter({ hasText: 'worth keeping' }).click();
    await page.getByTestId('chat-menu').click();
    await page.getByTestId('chat-export-open').click();
    await page.getByTestId('export-format').selectOption('html');
    alice.dialogFiles.push(htmlFile);
    await page.getByTestId('export-submit').click();
    await expect
      .poll(() => page.getByTestId('export-done').isVisible(), { timeout: 90_000 })
      .toBe(true);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toContain('worth keeping');
    expect(html).not.toContain('<message>'); // escaped, never live markup

    expect(alice.problems).toEqual([]);
    expect(restored.problems).toEqual([]);
  });
});
