import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { methods } from '../../../shared/ipc/contract.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { person } from '../../support/group-world.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';

// The `attachments:*` methods over a real core (what the app's attachment UI
// will call): inputs parsed by the contract's schemas, files chosen "in main".

const services: CoreService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

const call = callService;

describe('attachments through the service', () => {
  it('sends the chosen file, lists it, saves it to the chosen file; refuses calls without a file or with a stranger id', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const service = createCoreService({ profileDir: tempDir(), kdfCost: TEST_KDF, sync: false });
    services.push(service);
    await call(service, 'profile:create', {
      displayName: 'Me',
      passphrase: 'a long passphrase for tests',
      useKeychain: false,
      relay,
    });
    await call(service, 'profile:invite');
    const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const source = testFile(tempDir(), 'plan.pdf', 20_000);
    const sent = await call(
      service,
      'attachments:send',
      { conversationId: contact.conversationId, caption: 'the plan' },
      { file: source },
    );
    expect(sent.attachments).toMatchObject([
      { fileName: 'plan.pdf', size: 20_000, outgoing: true, contentType: 'application/pdf' },
    ]);
    const listed = await call(service, 'attachments:list', {
      conversationId: contact.conversationId,
    });
    expect(listed.map((a) => a.id)).toEqual(sent.attachments.map((a) => a.id));
    // No key, digest, blob id or path crosses the boundary.
    expect(JSON.stringify(listed)).not.toMatch(/key|digest|blob|local|temp|token/i);
    const out = join(tempDir(), 'copy.pdf');
    expect(
      await call(service, 'attachments:save', { attachmentId: listed[0]!.id }, { file: out }),
    ).toEqual({ size: 20_000 });
    expect(readFileSync(out).equals(testBytes(20_000, 'plan.pdf'))).toBe(true);

    expect(
      await rejectedCode(() =>
        call(service, 'attachments:send', { conversationId: contact.conversationId, caption: '' }),
      ),
    ).toBe('INVALID_INPUT');
    expect(
      await rejectedCode(() =>
        call(service, 'attachments:save', { attachmentId: 999 }, { file: out }),
      ),
    ).toBe('UNKNOWN_ATTACHMENT');
    expect(() =>
      methods['attachments:list'].input.parse({ conversationId: 1, path: '/etc/passwd' }),
    ).toThrow();
    expect(() => methods['attachments:save'].input.parse({ attachmentId: 1, key: 'x' })).toThrow();
  });
});
