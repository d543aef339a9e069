import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, methods } from '../../../shared/ipc/contract.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { person } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';
import { useOfflineServices } from '../../support/offline-service.ts';

// `messages:delete` over a real core, inputs parsed by the contract's schema
// as main parses them: what it removes, the events every window gets, and
// the hostile inputs (the schema's refusals are INVALID_INPUT at main; ids
// that are not the conversation's are UNKNOWN_MESSAGE, indistinguishable).

const startService = useOfflineServices();
const call = callService;

describe('messages:delete through the service', () => {
  it('deletes, tells every window, and refuses malformed and foreign ids', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const carol = await person('Carol', relay);
    const service = await startService(relay);
    await call(service, 'profile:invite');
    const toBob = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const toCarol = await call(service, 'contacts:add', { invite: profileInvite(carol.profile) });
    const seen: [string, unknown][] = [];
    const stop = service.onEvent((event, payload) => seen.push([event, payload]));
    const kept = await call(service, 'messages:send', {
      conversationId: toBob.conversationId,
      body: 'kept',
    });
    const withFile = await call(
      service,
      'attachments:send',
      { conversationId: toBob.conversationId, caption: 'the plan' },
      { file: testFile(tempDir(), 'plan.pdf', 10_000) },
    );
    const carols = await call(service, 'messages:send', {
      conversationId: toCarol.conversationId,
      body: 'for carol',
    });
    const scope = { conversationId: toBob.conversationId };

    // The schema (what main checks before the core sees a call).
    const parse = (input: unknown) => methods['messages:delete'].input.safeParse(input).success;
    expect(parse({ ...scope, messageIds: [kept.id] })).toBe(true);
    for (const messageIds of [
      [],
      [kept.id, kept.id],
      [1.5],
      [-3],
      ['1'],
      Array.from({ length: 501 }, (_, i) => i + 1),
    ])
      expect(parse({ ...scope, messageIds })).toBe(false);
    expect(parse({ messageIds: [kept.id] })).toBe(false);
    expect(parse({ ...scope, groupId: 'A'.repeat(43) + '=', messageIds: [kept.id] })).toBe(false);
    expect(parse({ ...scope, messageIds: [kept.id], path: '/tmp' })).toBe(false);
    expect(parse({ ...scope, messageIds: Array.from({ length: 500 }, (_, i) => i + 1) })).toBe(
      true,
    );

    // The core: another conversation's id and an unknown id look the same; nothing goes.
    for (const messageIds of [
      [kept.id, carols.id],
      [kept.id, 987_654],
    ])
      expect(
        await rejectedCode(() => call(service, 'messages:delete', { ...scope, messageIds })),
      ).toBe('UNKNOWN_MESSAGE');
    expect(
      await rejectedCode(() =>
        call(service, 'messages:delete', { conversationId: 4242, messageIds: [kept.id] }),
      ),
    ).toBe('UNKNOWN_CONTACT');
    expect(
      await rejectedCode(() =>
        call(service, 'messages:delete', { groupId: 'A'.repeat(43) + '=', messageIds: [kept.id] }),
      ),
    ).toBe('UNKNOWN_GROUP');
    expect(seen.filter(([event]) => event === 'messages:deleted')).toEqual([]);

    const deleted = await call(service, 'messages:delete', {
      ...scope,
      messageIds: [withFile.messageId],
    });
    expect(deleted).toEqual({ messageIds: [withFile.messageId] });
    const page = await call(service, 'messages:page', { ...scope, limit: 50 });
    expect(page.map((m) => m.id)).toEqual([kept.id]);
    expect(await call(service, 'attachments:list', scope)).toEqual([]);
    const announced = seen.filter(([event]) => event === 'messages:deleted');
    expect(announced).toEqual([
      ['messages:deleted', { ...scope, messageIds: [withFile.messageId] }],
    ]);
    expect(events['messages:deleted'].safeParse(announced[0]![1]).success).toBe(true);
    expect(seen.some(([event]) => event === 'conversations:changed')).toBe(true);
    const [row] = (await call(service, 'conversations:list')).filter(
      (c) => c.id === toBob.conversationId,
    );
    expect(row?.lastMessagePreview).toBe('kept');
    // Deleted once: a second delete of the same id is unknown now.
    expect(
      await rejectedCode(() =>
        call(service, 'messages:delete', { ...scope, messageIds: [withFile.messageId] }),
      ),
    ).toBe('UNKNOWN_MESSAGE');
    stop();
  });
});
