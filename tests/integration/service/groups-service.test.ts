import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { rejectedCode } from '../../support/errors.ts';
import { person } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';
import { useOfflineServices } from '../../support/offline-service.ts';

// The `groups:*` methods over a real core (what the app's group UI will
// call): inputs parsed by the contract's schemas, as main does.

const startService = useOfflineServices();

const call = callService;

describe('groups through the service', () => {
  it('creates a group from contacts, sends, renames, lists; refuses what the rules refuse', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const service = await startService(relay);
    await call(service, 'profile:invite'); // pins the home relay's id (our member card names it)
    const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const group = await call(service, 'groups:create', {
      title: 'Hikers',
      members: [contact.conversationId],
    });
    expect(group).toMatchObject({ title: 'Hikers', revision: 0, standing: 'member' });
    expect(group.members.map((m) => [m.name, m.admin, m.self])).toEqual([
      ['Me', true, true],
      ['Bob', false, false],
    ]);
    const sent = await call(service, 'groups:send', { groupId: group.groupId, body: 'hello' });
    expect(sent).toMatchObject({ body: 'hello', outgoing: true, delivered: { count: 0, of: 1 } });
    // What the app's list and members panel read: the last message, each member's 1:1 conversation.
    expect(await call(service, 'groups:get', { groupId: group.groupId })).toMatchObject({
      lastMessageAt: sent.sentAt,
      lastMessagePreview: 'hello',
      unreadCount: 0,
      members: [
        { self: true, conversationId: null, identityChanged: false },
        { self: false, conversationId: contact.conversationId, identityChanged: false },
      ],
    });
    expect(
      (await call(service, 'groups:messages', { groupId: group.groupId, limit: 10 })).map(
        (m) => m.body,
      ),
    ).toEqual(['hello']);
    expect(
      (await call(service, 'groups:rename', { groupId: group.groupId, title: 'Climbers' })).title,
    ).toBe('Climbers');
    expect((await call(service, 'groups:list')).map((g) => g.title)).toEqual(['Climbers']);
    expect(await call(service, 'groups:deliveries', { messageId: sent.id })).toEqual([
      { accountId: bob.profile.account.accountId, name: 'Bob', deliveredAt: null },
    ]);
    expect(
      await rejectedCode(() =>
        call(service, 'groups:remove', { groupId: group.groupId, accountId: 'nobody' }),
      ),
    ).toBe('INVALID_INPUT');
    expect(
      await rejectedCode(() => call(service, 'groups:get', { groupId: `${'A'.repeat(43)}=` })),
    ).toBe('UNKNOWN_GROUP');
    expect(() => methods['groups:get'].input.parse({ groupId: '../x' })).toThrow();
    expect(
      await rejectedCode(() =>
        call(service, 'groups:rename', { groupId: group.groupId, title: ' ' }),
      ),
    ).toBe('INVALID_NAME');
    const left = await call(service, 'groups:leave', { groupId: group.groupId });
    expect(left.standing).toBe('left');
    expect(
      await rejectedCode(() => call(service, 'groups:send', { groupId: group.groupId, body: 'x' })),
    ).toBe('NOT_GROUP_MEMBER');
  }, 120_000);
});
