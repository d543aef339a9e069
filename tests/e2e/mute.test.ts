import { describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../shared/ipc/contract.ts';
import { notificationForMessage } from '../../electron/main/notifications.ts';
import { cli } from '../support/cli.ts';
import { aliceWithCliContacts } from './support/conversation.ts';
import { useSuite } from './support/harness.ts';

// Muting in the app (issue 12; docs/architecture.md#notifications): Alice
// mutes Bob's conversation from its header, then Bob and Carol each write.
// As documented, a muted conversation keeps its own unread count on its row
// (greyed, marked "Muted") but raises no notification and adds nothing to the
// app badge; Carol's, not muted, does both. The notification is decided by
// main's own notificationForMessage on the core's real `message:new` event,
// and the badge is `sync:status`'s unread, the number main's ShellState hands
// app.setBadgeCount: Electron itself cannot run here.

const suite = useSuite();
const POLL = { timeout: 90_000, interval: 500 };
const PASSPHRASE = 'mute harbour kettle 7741 quiet';
/** Three profiles, CLI sends through the relay: minutes on a busy machine. */
const BUDGET_MS = 480_000;

describe('a muted conversation in the app', () => {
  it(
    'keeps its unread count but raises no notification and stays out of the badge',
    async () => {
      const {
        app,
        dirs: [bob, carol],
      } = await aliceWithCliContacts(suite, PASSPHRASE, ['Bob', 'Carol', 'Dave'] as const);
      const { page } = app;
      const arrived: EventPayload<'message:new'>[] = [];
      app.host.onEvent((name: EventName, payload) => {
        if (name === 'message:new') arrived.push(payload as EventPayload<'message:new'>);
      });
      const row = (name: string) => page.getByTestId('conversation-item').filter({ hasText: name });

      // Mute Bob from his conversation's header, then go back to Dave's (open: its messages are read).
      await row('Bob').click();
      await expect.poll(() => page.getByTestId('chat-view').isVisible(), POLL).toBe(true);
      await page.getByTestId('mute-control').selectOption('eightHours');
      await expect.poll(() => row('Bob').getByTestId('muted-marker').count(), POLL).toBe(1);
      await row('Dave').click();
      expect(await row('Carol').getByTestId('muted-marker').count()).toBe(0);

      await cli(bob, ['send', 'Alice', 'from a muted conversation']);
      await cli(carol, ['send', 'Alice', 'from a loud one']);
      await expect.poll(() => arrived.length, POLL).toBeGreaterThanOrEqual(2);

      // Each row shows its own unread message, muted or not.
      for (const name of ['Bob', 'Carol'])
        await expect
          .poll(
            () =>
              row(name).locator('[data-testid="unread-badge"] [aria-hidden="true"]').textContent(),
            POLL,
          )
          .toBe('1');
      // Notifications: none for Bob's message, Carol's by name.
      const context = { unlocked: true, enabled: true, content: 'name', focused: false } as const;
      const byBody = (body: string) => arrived.find((m) => m.body === body)!;
      expect(byBody('from a muted conversation').muted).toBe(true);
      expect(notificationForMessage(byBody('from a muted conversation'), context)).toBeUndefined();
      expect(notificationForMessage(byBody('from a loud one'), context)).toMatchObject({
        title: 'Carol',
      });
      // The badge counts Carol's message only.
      const status = await app.host.call('sync:status', {});
      expect(status.ok && status.value.unread).toBe(1);

      // Unmuted again, Bob's next message notifies and his unread joins the badge.
      await row('Bob').click();
      await page.getByTestId('mute-control').selectOption('on');
      await expect.poll(() => row('Bob').getByTestId('muted-marker').count(), POLL).toBe(0);
      await row('Dave').click();
      await cli(bob, ['send', 'Alice', 'loud again']);
      await expect.poll(() => arrived.some((m) => m.body === 'loud again'), POLL).toBe(true);
      expect(notificationForMessage(byBody('loud again'), context)).toMatchObject({
        title: 'Bob',
      });
      await expect
        .poll(async () => {
          const now = await app.host.call('sync:status', {});
          return now.ok ? now.value.unread : -1;
        }, POLL)
        .toBe(2);
      expect(app.problems).toEqual([]);
    },
    BUDGET_MS,
  );
});
