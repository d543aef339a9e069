import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../shared/ipc/contract.ts';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import { ComposeSends } from '../../../electron/core/service/compose-sends.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { befriend, person } from '../../support/group-world.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';
import { callService as call } from '../../support/service-call.ts';

// `attachments:cancel-send` over a real core with sync off (the upload job
// does not run, so what a cancel meets is decided by the test, not by
// timing), for the tray's send and the dialog's alike: during the seal the send answers CANCELLED and leaves no message,
// row or file; after the message was stored it falls through to the upload
// cancel; unknown ids are UNKNOWN_SEND, and a late or second cancel is false.

const services: CoreService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

/** Me (offline service) with Bob as a contact on a folder relay; the profile directory for its files. */
async function meAndBob() {
  const relay = join(tempDir(), 'relay');
  const bob = await person('Bob', relay);
  const dir = tempDir();
  const service = createCoreService({ profileDir: dir, kdfCost: TEST_KDF, sync: false });
  services.push(service);
  await call(service, 'profile:create', {
    displayName: 'Me',
    passphrase: 'a long passphrase for tests',
    useKeychain: false,
    relay,
  });
  const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
  return { service, dir, conversationId: contact.conversationId };
}

/** Files left under the profile's attachments folder (stored copies and temp files). */
function attachmentFiles(dir: string): string[] {
  const files = join(dir, 'attachments');
  return [...readdirSync(files), ...readdirSync(join(files, 'tmp'))].filter((f) => f !== 'tmp');
}

/**
 * Sends one file of `size` bytes as `sendId`: picked for the tray (main
 * resolved its token to the path) or chosen in main's open dialog.
 */
function sendPicked(
  service: CoreService,
  conversationId: number,
  sendId: string,
  size: number,
  via: 'tray' | 'dialog' = 'tray',
): Promise<unknown> {
  const path = testFile(tempDir(), 'holiday.mov', size);
  const input = { conversationId, caption: 'the whole holiday', sendId };
  return via === 'dialog'
    ? call(service, 'attachments:send', input, { file: path })
    : call(
        service,
        'attachments:send-files',
        { ...input, files: [{ token: 'A'.repeat(43) }] },
        { picked: [{ path }] },
      );
}

describe('cancelling a send while its files are sealed', () => {
  it.each([
    ['picked for the tray (attachments:send-files)', 'tray' as const],
    ['chosen in the dialog (attachments:send)', 'dialog' as const],
  ])(
    'a file %s: answers CANCELLED, stores nothing, leaves no file; a second cancel and one after the end are false',
    async (_, via) => {
      const { service, dir, conversationId } = await meAndBob();
      const sendId = randomUUID();
      const sealing: EventPayload<'attachments:sealing'>[] = [];
      let cancelled: Promise<{ cancelled: boolean }> | undefined;
      let again: Promise<{ cancelled: boolean }> | undefined;
      service.onEvent((event, payload) => {
        if (event !== 'attachments:sealing') return;
        sealing.push(payload as EventPayload<'attachments:sealing'>);
        // The first report comes after the first MiB was read: the user clicks Cancel then.
        cancelled ??= call(service, 'attachments:cancel-send', { sendId });
        again ??= call(service, 'attachments:cancel-send', { sendId });
      });
      const size = 24 * 1024 * 1024;
      expect(await rejectedCode(() => sendPicked(service, conversationId, sendId, size, via))).toBe(
        'CANCELLED',
      );
      expect(await cancelled).toEqual({ cancelled: true });
      expect(await again).toEqual({ cancelled: false });
      expect(await call(service, 'attachments:cancel-send', { sendId })).toEqual({
        cancelled: false,
      });
      // Ids and counts only; the seal stopped well before its end.
      expect(sealing.length).toBeGreaterThan(0);
      for (const report of sealing) {
        expect(Object.keys(report).sort()).toEqual(['done', 'sendId', 'total']);
        expect(report).toMatchObject({ sendId, total: size });
        expect(report.done).toBeLessThan(size);
      }
      expect(await call(service, 'messages:page', { conversationId, limit: 10 })).toEqual([]);
      expect(await call(service, 'attachments:list', { conversationId })).toEqual([]);
      expect(attachmentFiles(dir)).toEqual([]);

      // The tray's files go again under a new id, and are stored.
      const sent = (await sendPicked(service, conversationId, randomUUID(), 5_000, via)) as {
        attachments: unknown[];
      };
      expect(sent.attachments).toHaveLength(1);
    },
  );

  it('after the message was stored, falls through to the upload cancel: its file fails as CANCELLED, and so does the message', async () => {
    const { service, conversationId } = await meAndBob();
    const sendId = randomUUID();
    const sent = (await sendPicked(service, conversationId, sendId, 300_000)) as {
      messageId: number;
    };
    expect(await call(service, 'attachments:cancel-send', { sendId })).toEqual({
      cancelled: true,
    });
    expect(await call(service, 'attachments:list', { conversationId })).toMatchObject([
      { messageId: sent.messageId, state: 'failed', error: 'CANCELLED' },
    ]);
    expect(await call(service, 'messages:page', { conversationId, limit: 10 })).toMatchObject([
      { id: sent.messageId, status: 'failed' },
    ]);
    expect(await call(service, 'attachments:cancel-send', { sendId })).toEqual({
      cancelled: false,
    });
  });

  it('a Cancel taken between the seal’s end and the commit is applied right after the commit: nothing reaches Bob', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await person('Alice', relay);
    const bob = await person('Bob', relay);
    befriend(alice, bob);
    const sends = new ComposeSends(() => undefined);
    const sendId = randomUUID();
    const run = sends.begin(sendId);
    const path = testFile(tempDir(), 'late.pdf', 40_000);
    const queued = await queueAttachmentMessage(
      alice.profile,
      bob.profile.account.accountId,
      [{ path }],
      'late',
      undefined,
      run.options,
    );
    // The seal is over but the service has not recorded the message yet: the click lands here.
    expect(sends.cancel(alice.profile, sendId)).toBe(true);
    const files = attachmentsOf(alice.profile, { messageIds: [queued.id] });
    run.stored(
      alice.profile,
      { conversationId: queued.conversationId },
      files.map((f) => f.id),
    );
    expect(attachmentsOf(alice.profile, { messageIds: [queued.id] })).toMatchObject([
      { state: 'failed', error: 'CANCELLED' },
    ]);
    expect(sends.cancel(alice.profile, sendId)).toBe(false);
    await alice.engine.sendOutbox();
    expect((await bob.engine.receive({ firstWaitMs: 0, idleMs: 0 })).stored).toBe(0);
  });

  it('an id never sent is UNKNOWN_SEND; an id used again is INVALID_INPUT and nothing is stored for it', async () => {
    const { service, conversationId } = await meAndBob();
    expect(
      await rejectedCode(() => call(service, 'attachments:cancel-send', { sendId: randomUUID() })),
    ).toBe('UNKNOWN_SEND');
    const sendId = randomUUID();
    await sendPicked(service, conversationId, sendId, 1_000);
    expect(await rejectedCode(() => sendPicked(service, conversationId, sendId, 1_000))).toBe(
      'INVALID_INPUT',
    );
    expect(await call(service, 'messages:page', { conversationId, limit: 10 })).toHaveLength(1);
  });
});
