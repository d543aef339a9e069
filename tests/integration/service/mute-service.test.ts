import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { MAX_MUTE_MS, MIN_MUTE_MS, MUTE_CHOICES, MUTE_FOREVER } from '../../../shared/mute.ts';
import {
  notificationForGroupMessage,
  notificationForMessage,
} from '../../../electron/main/notifications.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { ServiceUser } from '../../support/service-user.ts';

// Muting over real services and a real relay process: a muted conversation's
// or group's messages still arrive and count in its row, but the events say
// `muted` (main shows no notification for them) and the badge leaves them out.

let relay: RelayProcess;
const users: ServiceUser[] = [];
const notifyWhileAway = { unlocked: true, enabled: true, content: 'name', focused: false } as const;

beforeAll(async () => {
  relay = await startRelayProcess(tempDir('sotto-relay-'));
});
afterEach(async () => {
  await Promise.all(users.splice(0).map((u) => u.service.close()));
});
afterAll(async () => {
  await relay.stop();
});

async function create(name: string): Promise<ServiceUser> {
  const u = new ServiceUser();
  users.push(u);
  await u.call('profile:create', {
    displayName: name,
    passphrase: `${name} has a long passphrase`,
    useKeychain: false,
    relay: relay.url,
  });
  return u;
}

/** Alice and Bob, contacts both ways; returns the conversation ids (Bob at Alice, Alice at Bob). */
async function pair(alice: ServiceUser, bob: ServiceUser): Promise<[number, number]> {
  const bobAtAlice = (
    await alice.call('contacts:add', { invite: (await bob.call('profile:invite')).link })
  ).conversationId;
  const aliceAtBob = (
    await bob.call('contacts:add', { invite: (await alice.call('profile:invite')).link })
  ).conversationId;
  return [bobAtAlice, aliceAtBob];
}

describe('muting in the app service', () => {
  it('a muted 1:1 conversation receives without a notification and without the badge; unmuting restores both', async () => {
    const alice = await create('Alice');
    const bob = await create('Bob');
    const [bobAtAlice, aliceAtBob] = await pair(alice, bob);
    const before = Date.now();
    const row = await alice.call('conversations:mute', {
      conversationId: bobAtAlice,
      durationMs: MUTE_CHOICES.eightHours,
    });
    expect(row.mutedUntil).toBeGreaterThanOrEqual(before + MUTE_CHOICES.eightHours);
    expect(row.mutedUntil).toBeLessThanOrEqual(Date.now() + MUTE_CHOICES.eightHours);

    const quiet = await bob.call('messages:send', { conversationId: aliceAtBob, body: 'shh' });
    const pushed = await alice.waitFor('message:new', (m) => m.uuid === quiet.uuid);
    expect(pushed.muted).toBe(true);
    expect(notificationForMessage(pushed, notifyWhileAway)).toBeUndefined();
    // Still counted in its row (shown greyed), not in the badge.
    const listed = (await alice.call('conversations:list')).find((c) => c.id === bobAtAlice)!;
    expect(listed.unreadCount).toBe(1);
    expect(listed.mutedUntil).toBe(row.mutedUntil);
    expect((await alice.call('sync:status')).unread).toBe(0);

    const unmuted = await alice.call('conversations:unmute', { conversationId: bobAtAlice });
    expect(unmuted.mutedUntil).toBeNull();
    await alice.waitFor('sync:status', (s) => s.unread === 1);
    const loud = await bob.call('messages:send', { conversationId: aliceAtBob, body: 'hello' });
    const heard = await alice.waitFor('message:new', (m) => m.uuid === loud.uuid);
    expect(heard.muted).toBe(false);
    expect(notificationForMessage(heard, notifyWhileAway)).toMatchObject({ title: 'Bob' });
    await alice.waitFor('sync:status', (s) => s.unread === 2);
  });

  it('a group muted until unmuted: its messages raise no notification and stay out of the badge', async () => {
    const alice = await create('Alice');
    const bob = await create('Bob');
    const [bobAtAlice] = await pair(alice, bob);
    const group = await alice.call('groups:create', { title: 'Hikers', members: [bobAtAlice] });
    const first = await alice.call('groups:send', { groupId: group.groupId, body: 'one' });
    await bob.waitFor('group:message', (m) => m.uuid === first.uuid);
    const muted = await bob.call('groups:mute', { groupId: group.groupId, durationMs: null });
    expect(muted.mutedUntil).toBe(MUTE_FOREVER);
    expect((await bob.call('sync:status')).unread).toBe(0);

    const second = await alice.call('groups:send', { groupId: group.groupId, body: 'two' });
    const pushed = await bob.waitFor('group:message', (m) => m.uuid === second.uuid);
    expect(pushed.muted).toBe(true);
    expect(notificationForGroupMessage(pushed, notifyWhileAway)).toBeUndefined();
    expect((await bob.call('groups:get', { groupId: group.groupId })).unreadCount).toBe(2);
    expect((await bob.call('sync:status')).unread).toBe(0);

    expect((await bob.call('groups:unmute', { groupId: group.groupId })).mutedUntil).toBeNull();
    expect((await bob.call('sync:status')).unread).toBe(2);
    // Unmuting what is not muted changes nothing and is no error.
    expect((await bob.call('groups:unmute', { groupId: group.groupId })).mutedUntil).toBeNull();
  });

  it('refuses an unknown conversation or group, and negative, huge, fractional or malformed durations', async () => {
    const alice = await create('Alice');
    const bob = await create('Bob');
    const [bobAtAlice] = await pair(alice, bob);
    const group = await alice.call('groups:create', { title: 'Hikers', members: [bobAtAlice] });
    expect(
      await rejectedCode(() =>
        alice.call('conversations:mute', { conversationId: 9_999, durationMs: MIN_MUTE_MS }),
      ),
    ).toBe('UNKNOWN_CONTACT');
    expect(
      await rejectedCode(() => alice.call('conversations:unmute', { conversationId: 9_999 })),
    ).toBe('UNKNOWN_CONTACT');
    const unknownGroup = `${'A'.repeat(43)}=`;
    expect(
      await rejectedCode(() =>
        alice.call('groups:mute', { groupId: unknownGroup, durationMs: null }),
      ),
    ).toBe('UNKNOWN_GROUP');
    expect(await rejectedCode(() => alice.call('groups:unmute', { groupId: unknownGroup }))).toBe(
      'UNKNOWN_GROUP',
    );
    const bad: unknown[] = [
      -1,
      0,
      MIN_MUTE_MS - 1,
      MAX_MUTE_MS + 1,
      Number.MAX_SAFE_INTEGER,
      1e308,
      Infinity,
      NaN,
      90_000.5,
      '8h',
      true,
      undefined,
    ];
    for (const durationMs of bad) {
      expect(
        methods['conversations:mute'].input.safeParse({ conversationId: bobAtAlice, durationMs })
          .success,
      ).toBe(false);
      expect(
        methods['groups:mute'].input.safeParse({ groupId: group.groupId, durationMs }).success,
      ).toBe(false);
    }
    // Extra fields (an end time chosen by the caller) are refused too.
    expect(
      methods['conversations:mute'].input.safeParse({
        conversationId: bobAtAlice,
        durationMs: null,
        mutedUntil: 1,
      }).success,
    ).toBe(false);
    // Nothing was muted by the refusals.
    expect((await alice.call('conversations:list'))[0]?.mutedUntil).toBeNull();
    expect((await alice.call('groups:get', { groupId: group.groupId })).mutedUntil).toBeNull();
  });
});
