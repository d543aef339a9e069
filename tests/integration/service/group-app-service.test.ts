import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { ServiceUser } from '../../support/service-user.ts';

// What the app's group screens get from the core beyond the group methods
// themselves, over real services and a real relay process: `group:message`
// events (notifications), read markers that survive a restart (and count in
// the badge), and safety numbers of members who are not contacts.

let relay: RelayProcess;
const users: ServiceUser[] = [];

beforeAll(async () => {
  relay = await startRelayProcess(tempDir('sotto-relay-'));
});
afterEach(async () => {
  await Promise.all(users.splice(0).map((u) => u.service.close()));
});
afterAll(async () => {
  await relay.stop();
});

async function create(name: string, dir?: string): Promise<ServiceUser> {
  const u = new ServiceUser(dir);
  users.push(u);
  await u.call('profile:create', {
    displayName: name,
    passphrase: `${name} has a long passphrase`,
    useKeychain: false,
    relay: relay.url,
  });
  return u;
}

/** `a` adds `b`'s invite; returns b's conversation id at a. */
async function add(a: ServiceUser, b: ServiceUser): Promise<number> {
  const { link } = await b.call('profile:invite');
  return (await a.call('contacts:add', { invite: link })).conversationId;
}

describe('groups in the app service', () => {
  it('pushes group messages, keeps unread across a restart, and counts groups in the badge', async () => {
    const alice = await create('Alice');
    const bob = await create('Bob');
    const bobAtAlice = await add(alice, bob);
    await add(bob, alice);
    const group = await alice.call('groups:create', { title: 'Hikers', members: [bobAtAlice] });
    const first = await alice.call('groups:send', { groupId: group.groupId, body: 'one' });
    const second = await alice.call('groups:send', { groupId: group.groupId, body: 'two' });

    const pushed = await bob.waitFor('group:message', (m) => m.uuid === second.uuid);
    expect(pushed).toMatchObject({
      groupId: group.groupId,
      groupTitle: 'Hikers',
      senderName: 'Alice',
      body: 'two',
      outgoing: false,
    });
    await bob.waitFor('group:message', (m) => m.uuid === first.uuid);
    expect((await bob.call('groups:get', { groupId: group.groupId })).unreadCount).toBe(2);
    await bob.waitFor('sync:status', (s) => s.unread === 2);

    await bob.call('groups:mark-read', { groupId: group.groupId });
    expect((await bob.call('groups:get', { groupId: group.groupId })).unreadCount).toBe(0);
    expect((await bob.call('sync:status')).unread).toBe(0);

    const third = await alice.call('groups:send', { groupId: group.groupId, body: 'three' });
    await bob.waitFor('group:message', (m) => m.uuid === third.uuid);
    // A restart: the count comes from the database, not from the app's memory.
    await bob.service.close();
    const again = new ServiceUser(bob.dir);
    users.push(again);
    await again.call('profile:unlock', { passphrase: 'Bob has a long passphrase' });
    expect((await again.call('groups:get', { groupId: group.groupId })).unreadCount).toBe(1);
    expect((await again.call('groups:list'))[0]?.unreadCount).toBe(1);
    expect((await again.call('sync:status')).unread).toBe(1);
    // Older pages: the cursor pages back from the oldest message shown.
    const newest = await again.call('groups:messages', { groupId: group.groupId, limit: 1 });
    expect(newest.map((m) => m.body)).toEqual(['three']);
    const older = await again.call('groups:messages', {
      groupId: group.groupId,
      limit: 5,
      before: { sentAt: newest[0]!.sentAt, id: newest[0]!.id },
    });
    expect(older.map((m) => m.body)).toEqual(['two', 'one']);
  });

  it('refuses a read marker or a safety number for what is not there, and forged cursors', async () => {
    const alice = await create('Alice');
    const bob = await create('Bob');
    const bobAtAlice = await add(alice, bob);
    const group = await alice.call('groups:create', { title: 'Hikers', members: [bobAtAlice] });
    const unknown = `${'A'.repeat(43)}=`;
    expect(await rejectedCode(() => alice.call('groups:mark-read', { groupId: unknown }))).toBe(
      'UNKNOWN_GROUP',
    );
    const self = group.members.find((m) => m.self)!.accountId;
    const stranger = '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b';
    for (const accountId of [self, stranger]) {
      expect(
        await rejectedCode(() =>
          alice.call('groups:member-safety-number', { groupId: group.groupId, accountId }),
        ),
      ).toBe('UNKNOWN_CONTACT');
      expect(
        await rejectedCode(() =>
          alice.call('groups:verify-member', { groupId: group.groupId, accountId }),
        ),
      ).toBe('UNKNOWN_CONTACT');
    }
    for (const before of [{ sentAt: 1, id: -1 }, { sentAt: 'x', id: 1 }, { sentAt: 1 }]) {
      const parsed = methods['groups:messages'].input.safeParse({
        groupId: group.groupId,
        limit: 10,
        before,
      });
      expect(parsed.success).toBe(false);
    }
    expect(
      methods['groups:mark-read'].input.safeParse({ groupId: group.groupId, extra: 1 }).success,
    ).toBe(false);
  });

  it("shows a non-contact member's safety number from the group's key; verifying carries to a later 1:1 contact", async () => {
    const alice = await create('Alice');
    const bob = await create('Bob');
    const carol = await create('Carol');
    const bobAtAlice = await add(alice, bob);
    const carolAtAlice = await add(alice, carol);
    await add(bob, alice);
    await add(carol, alice);
    const group = await alice.call('groups:create', {
      title: 'Hikers',
      members: [bobAtAlice, carolAtAlice],
    });
    const hello = await alice.call('groups:send', { groupId: group.groupId, body: 'hello' });
    await bob.waitFor('group:message', (m) => m.uuid === hello.uuid);
    const carolId = group.members.find((m) => m.name === 'Carol')!.accountId;
    const carolAtBob = (await bob.call('groups:get', { groupId: group.groupId })).members.find(
      (m) => m.accountId === carolId,
    )!;
    // Bob knows Carol only through the group: no conversation, yet a safety number.
    expect(carolAtBob.conversationId).toBeNull();
    const number = await bob.call('groups:member-safety-number', {
      groupId: group.groupId,
      accountId: carolId,
    });
    expect(number.verified).toBe(false);
    // The same number Carol sees for Bob (both sides compute it over the same two keys).
    const bobId = group.members.find((m) => m.name === 'Bob')!.accountId;
    await carol.waitFor('group:message', (m) => m.uuid === hello.uuid);
    const atCarol = await carol.call('groups:member-safety-number', {
      groupId: group.groupId,
      accountId: bobId,
    });
    expect(atCarol.digits).toBe(number.digits);

    await bob.call('groups:verify-member', { groupId: group.groupId, accountId: carolId });
    expect(
      (
        await bob.call('groups:member-safety-number', {
          groupId: group.groupId,
          accountId: carolId,
        })
      ).verified,
    ).toBe(true);
    // Bob later adds Carol as a contact: the same account is the same key, already verified.
    await add(bob, carol);
    const contact = (await bob.call('contacts:list')).find((c) => c.accountId === carolId);
    expect(contact).toMatchObject({ verified: true });
  });
});
