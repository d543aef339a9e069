import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../electron/core/index.ts';
import { profileInvite } from '../../electron/core/profile/invite.ts';
import { tempDir } from '../support/profiles.ts';
import { createProfile, readInvite, screenshot, useSuite } from './support/harness.ts';

// A contact's safety number changes: the conversation shows a banner and its
// composer is blocked until Alice accepts the new key (or verifies it). The
// change is real: Bob's profile replaces its identity key (keeping its account
// id) and Alice adds him again from his new invite, as she would if he sent it.

const suite = useSuite();

describe('an identity change in the app', () => {
  it('flags the conversation, blocks sending, and accepting unblocks it', async () => {
    const alice = await suite.open(join(tempDir(), 'alice'));
    const bobDir = join(tempDir(), 'bob');
    const bob = await suite.open(bobDir);
    await createProfile(alice.page, 'Alice', 'alice has a long passphrase', suite.relay.url);
    await alice.page.getByTestId('invite-continue').click();
    await createProfile(bob.page, 'Bob', 'bob has a long passphrase too', suite.relay.url);
    const firstInvite = await readInvite(bob.page);
    await suite.close(bob);

    const page = alice.page;
    const addFromInvite = async (invite: string) => {
      await page.getByTestId('add-contact-open').click();
      await page.getByTestId('add-contact-invite').fill(invite);
      await page.getByTestId('add-contact-submit').click();
    };
    await addFromInvite(firstInvite);
    const item = page.getByTestId('conversation-item').filter({ hasText: 'Bob' });
    await item.click();
    await expect.poll(() => page.getByTestId('chat-composer').isEnabled()).toBe(true);
    expect(await page.getByTestId('identity-banner').count()).toBe(0);

    // Bob's key changes (same account id); his new invite carries the new key.
    const bobProfile = await Profile.open(bobDir, { passphrase: 'bob has a long passphrase too' });
    let secondInvite: string;
    try {
      bobProfile.resetIdentity();
      secondInvite = profileInvite(bobProfile);
    } finally {
      await bobProfile.close();
    }
    expect(secondInvite).not.toBe(firstInvite);
    await addFromInvite(secondInvite);
    await item.click();

    await expect.poll(() => page.getByTestId('identity-banner').isVisible()).toBe(true);
    expect(await item.getByTestId('identity-marker').count()).toBe(1);
    expect(await page.getByTestId('composer-blocked').isVisible()).toBe(true);
    expect(await page.getByTestId('chat-composer').isDisabled()).toBe(true);
    await screenshot(page, '10-identity-changed');

    await page.getByTestId('accept-identity').click();
    await expect.poll(() => page.getByTestId('identity-banner').count()).toBe(0);
    expect(await page.getByTestId('chat-composer').isEnabled()).toBe(true);
    expect(await item.getByTestId('identity-marker').count()).toBe(0);
    expect(alice.problems).toEqual([]);
  });
});
