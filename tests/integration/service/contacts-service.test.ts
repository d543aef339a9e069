import { describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { rejectedCode } from '../../support/errors.ts';
import { inviteOf, newProfile } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';
import { useOfflineServices } from '../../support/offline-service.ts';

// The service's contact methods over a real core, offline (sync: false): what
// the app's Add contact, Block and Unblock and its composer meet.

const startService = useOfflineServices();
const app = () => startService('wss://relay.example.org');

/** Calls a method with its input parsed by the contract's schema, as main does. */
const call = callService;

describe('contacts through the service', () => {
  it('adds from an invite v2, blocks (sending refused) and unblocks', async () => {
    const service = await app();
    const { profile: bob } = await newProfile('Bob');
    const added = await call(service, 'contacts:add', { invite: inviteOf(bob) });
    expect(added).toMatchObject({
      accountId: bob.account.accountId,
      displayName: 'Bob',
      blocked: false,
    });
    const blocked = await call(service, 'contacts:block', { conversationId: added.conversationId });
    expect(blocked.blocked).toBe(true);
    expect((await call(service, 'contacts:list')).map((c) => c.blocked)).toEqual([true]);
    expect(
      await rejectedCode(() =>
        call(service, 'messages:send', { conversationId: added.conversationId, body: 'hi' }),
      ),
    ).toBe('CONTACT_BLOCKED');
    expect(
      (await call(service, 'contacts:unblock', { conversationId: added.conversationId })).blocked,
    ).toBe(false);
    expect(
      (await call(service, 'messages:send', { conversationId: added.conversationId, body: 'hi' }))
        .status,
    ).toBe('queued');
  });

  it('an outdated invite is INVITE_OUTDATED', async () => {
    const service = await app();
    expect(
      await rejectedCode(() => call(service, 'contacts:add', { invite: 'sotto://invite/1#e30' })),
    ).toBe('INVITE_OUTDATED');
  });

  it("a 70,000-character message passes the IPC contract and meets the core's rule: MESSAGE_TOO_LONG", async () => {
    const service = await app();
    const { profile: bob } = await newProfile('Bob');
    const { conversationId } = await call(service, 'contacts:add', { invite: inviteOf(bob) });
    for (const body of ['x'.repeat(70_000), '北'.repeat(60_000)]) {
      expect(methods['messages:send'].input.safeParse({ conversationId, body }).success).toBe(true);
      expect(
        await rejectedCode(() => call(service, 'messages:send', { conversationId, body })),
      ).toBe('MESSAGE_TOO_LONG');
    }
    expect((await call(service, 'sync:status')).outbox).toBe(0);
  });
});
