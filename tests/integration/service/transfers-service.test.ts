import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { setSetting } from '../../../electron/core/profile/settings.ts';
import { readSettings } from '../../../electron/core/profile/app-settings.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { callService } from '../../support/service-call.ts';
import { ServiceUser as User } from '../../support/service-user.ts';

// The transfer methods and events over real cores and a relay process, as the
// window uses them: the Settings policy, the Download click and its progress
// events, Cancel, and what the contract refuses (malformed policy values,
// unknown or foreign ids, a stranger's network value).

let relay: RelayProcess;
const users: User[] = [];
const services: CoreService[] = [];

beforeAll(async () => {
  relay = await startRelayProcess(tempDir('sotto-relay-'));
});
afterEach(async () => {
  await Promise.all(users.splice(0).map((u) => u.service.close()));
  await Promise.all(services.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await relay.stop();
});

async function user(name: string): Promise<User> {
  const u = new User();
  users.push(u);
  await u.call('profile:create', {
    displayName: name,
    passphrase: `${name} passphrase long`,
    useKeychain: false,
    relay: relay.url,
  });
  return u;
}

async function befriend(a: User, b: User): Promise<{ aChat: number; bChat: number }> {
  const { link: aInvite } = await a.call('profile:invite');
  const { link: bInvite } = await b.call('profile:invite');
  const bSide = await b.call('contacts:add', { invite: aInvite });
  const aSide = await a.call('contacts:add', { invite: bInvite });
  return { aChat: aSide.conversationId, bChat: bSide.conversationId };
}

describe('transfers through the service', () => {
  it('holds a large image until Download, streams progress events of ids and counts, and refuses foreign ids', async () => {
    const alice = await user('Alice');
    const bob = await user('Bob');
    const carol = await user('Carol');
    const { aChat, bChat } = await befriend(alice, bob);
    const { bChat: carolChat } = await befriend(carol, bob);
    expect(await bob.call('settings:get')).toMatchObject({
      autoDownloadImagesMb: 10,
      autoDownloadOnMetered: false,
    });
    await bob.call('settings:set', { autoDownloadImagesMb: 1 });
    await bob.call('attachments:network', { network: 'unmetered' });

    const dir = tempDir();
    await alice.call(
      'attachments:send',
      { conversationId: aChat, caption: 'big' },
      testFile(dir, 'big.png', 3_000_000),
    );
    const message = await bob.waitFor('message:new', (m) => m.body === 'big', 60_000);
    const [held] = await bob.call('attachments:list', { conversationId: bChat });
    expect(held).toMatchObject({ messageId: message.id, state: 'pending', waiting: true });

    // Not Carol's to ask for, nor anyone's under a made-up id or group.
    for (const input of [
      { conversationId: carolChat, attachmentId: held!.id },
      { conversationId: bChat, attachmentId: 999_999 },
      { groupId: 'A'.repeat(43) + '=', attachmentId: held!.id },
    ]) {
      expect(await rejectedCode(() => bob.call('attachments:download', input))).toBe(
        'UNKNOWN_ATTACHMENT',
      );
      expect(await rejectedCode(() => bob.call('attachments:cancel', input))).toBe(
        'UNKNOWN_ATTACHMENT',
      );
    }

    // Three clicks: one transfer, the same summary each time.
    for (let i = 0; i < 3; i++) {
      const clicked = await bob.call('attachments:download', {
        conversationId: bChat,
        attachmentId: held!.id,
      });
      expect(clicked.id).toBe(held!.id);
    }
    await bob.waitFor('attachments:changed', (e) => e.attachmentId === held!.id, 60_000);
    const [stored] = await bob.call('attachments:list', { conversationId: bChat });
    expect(stored).toMatchObject({ state: 'done', waiting: false });
    const progress = bob.events.filter((e) => e.event === 'attachments:progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const { payload } of progress) {
      expect(Object.keys(payload as object).sort()).toEqual([
        'attachmentId',
        'direction',
        'done',
        'total',
      ]);
      expect(payload).toMatchObject({ attachmentId: held!.id, direction: 'download' });
    }
    // Ended once: one transfer for three clicks.
    expect(
      bob.events.filter(
        (e) =>
          e.event === 'attachments:changed' &&
          (e.payload as { attachmentId: number }).attachmentId === held!.id,
      ),
    ).toHaveLength(1);
    // A finished download has nothing to cancel.
    expect(
      await bob.call('attachments:cancel', { conversationId: bChat, attachmentId: held!.id }),
    ).toEqual({ cancelled: false });
  });

  it('refuses malformed policy and network values at the contract; a damaged stored value reads as the default', async () => {
    const u = await user('Dora');
    for (const bad of [-1, Number.NaN, 1.5, 1e9, Infinity, '10', null]) {
      expect(() => methods['settings:set'].input.parse({ autoDownloadImagesMb: bad })).toThrow();
    }
    expect(() => methods['settings:set'].input.parse({ autoDownloadOnMetered: 'yes' })).toThrow();
    for (const bad of ['wifi', '', 1, null])
      expect(() => methods['attachments:network'].input.parse({ network: bad })).toThrow();
    expect(() =>
      methods['attachments:download'].input.parse({
        attachmentId: 1,
        conversationId: 1,
        path: '/',
      }),
    ).toThrow();
    expect(() =>
      methods['attachments:cancel'].input.parse({ attachmentId: -1, conversationId: 1 }),
    ).toThrow();
    expect(await u.call('settings:set', { autoDownloadImagesMb: 0 })).toMatchObject({
      autoDownloadImagesMb: 0,
    });
    // Written behind the contract's back (a damaged or hostile profile): read back as the default.
    const { db } = (u.service as unknown as { session: { open(): Profile } }).session.open();
    for (const stored of ['-5', '"ten"', 'NaN', '{', '1e12']) {
      setSetting(db, 'attachments.autoDownloadImagesMb', stored);
      expect(readSettings(db).autoDownloadImagesMb).toBe(10);
      expect((await u.call('settings:get')).autoDownloadImagesMb).toBe(10);
    }
  });

  it('cancels an upload before it went out: the message fails as CANCELLED, the window is told by id, Retry queues it again', async () => {
    const bob = await user('Bob');
    const service = createCoreService({ profileDir: tempDir(), kdfCost: TEST_KDF, sync: false });
    services.push(service);
    const seen: { event: string; payload: unknown }[] = [];
    service.onEvent((event, payload) => seen.push({ event, payload }));
    await callService(service, 'profile:create', {
      displayName: 'Eve',
      passphrase: 'a long passphrase for tests',
      useKeychain: false,
      relay: relay.url,
    });
    const contact = await callService(service, 'contacts:add', {
      invite: (await bob.call('profile:invite')).link,
    });
    const sent = await callService(
      service,
      'attachments:send',
      { conversationId: contact.conversationId, caption: 'never' },
      { file: testFile(tempDir(), 'plan.pdf', 40_000) },
    );
    const attachmentId = sent.attachments[0]!.id;
    // An outgoing file is not a download.
    expect(
      await rejectedCode(() =>
        callService(service, 'attachments:download', {
          conversationId: contact.conversationId,
          attachmentId,
        }),
      ),
    ).toBe('UNKNOWN_ATTACHMENT');
    expect(
      await callService(service, 'attachments:cancel', {
        conversationId: contact.conversationId,
        attachmentId,
      }),
    ).toEqual({ cancelled: true });
    expect(seen).toContainEqual({ event: 'attachments:changed', payload: { attachmentId } });
    // The bubble learns its message failed like any status change.
    expect(seen).toContainEqual({
      event: 'message:status',
      payload: {
        messageId: sent.messageId,
        conversationId: contact.conversationId,
        status: 'failed',
      },
    });
    const [listed] = await callService(service, 'attachments:list', {
      conversationId: contact.conversationId,
    });
    expect(listed).toMatchObject({ state: 'failed', error: 'CANCELLED' });
    const [message] = await callService(service, 'messages:page', {
      conversationId: contact.conversationId,
      limit: 5,
    });
    expect(message).toMatchObject({ id: sent.messageId, status: 'failed' });
    expect(
      await callService(service, 'attachments:cancel', {
        conversationId: contact.conversationId,
        attachmentId,
      }),
    ).toEqual({ cancelled: false });
    // Retry: the file is due to upload again and the message is queued.
    expect(
      await callService(service, 'messages:retry', { messageId: sent.messageId }),
    ).toMatchObject({ id: sent.messageId, status: 'queued' });
    const [again] = await callService(service, 'attachments:list', {
      conversationId: contact.conversationId,
    });
    expect(again).toMatchObject({ state: 'uploading', error: null });
  });
});
