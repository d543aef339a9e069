import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { rejectedCode } from '../../support/errors.ts';
import { aliceBobCarol, type Person, settle } from '../../support/group-world.ts';
import { TEST_KDF } from '../../support/profiles.ts';
import { REFUSED_FILE_SIZE, refusedAfterUpload } from '../../support/refused-fanout.ts';
import { callService as call } from '../../support/service-call.ts';

// The app's Retry (`groups:retry`) of a group message whose file uploaded but
// whose fan-out the relay refused: the message is queued and its file waits
// for the relay's check (no new upload); once Alice's device syncs, each
// member has the message and its file once. A second click is refused.

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const copies = (p: Person, caption: string) =>
  Number(
    p.profile.db
      .prepare('SELECT count(*) FROM group_messages WHERE body = ?', { pluck: true })
      .get([caption]),
  );

describe('groups:retry of a refused fan-out', () => {
  it('queues it without a new upload; every member ends with one copy and the file', async () => {
    const { alice, bob, carol, group, relay } = await aliceBobCarol('Survey');
    const messageId = await refusedAfterUpload(alice, group.groupId, 'site plan');
    const blobs = () => readdirSync(join(relay, 'blobs')).length;
    const before = blobs();
    // The app opens Alice's profile (sync off: the test runs the passes itself).
    await alice.engine.close();
    await alice.profile.close();
    const service: CoreService = createCoreService({
      profileDir: alice.dir,
      kdfCost: TEST_KDF,
      sync: false,
    });
    closers.push(() => service.close());
    await call(service, 'profile:unlock', { passphrase: alice.passphrase });

    expect(await call(service, 'groups:retry', { messageId })).toMatchObject({
      id: messageId,
      status: 'queued',
    });
    expect(await call(service, 'attachments:list', { groupId: group.groupId })).toMatchObject([
      { size: REFUSED_FILE_SIZE, state: 'uploading', error: null },
    ]);
    expect(await rejectedCode(() => call(service, 'groups:retry', { messageId }))).toBe(
      'INVALID_INPUT',
    );
    await service.close();

    const profile = await Profile.open(alice.dir, { passphrase: alice.passphrase });
    const engine = new SyncEngine(profile);
    closers.push(
      () => profile.close(),
      () => engine.close(),
    );
    await settle([{ ...alice, profile, engine }, bob, carol]);
    expect([copies(bob, 'site plan'), copies(carol, 'site plan')]).toEqual([1, 1]);
    for (const member of [bob, carol])
      expect(
        member.profile.db
          .prepare("SELECT count(*) FROM attachments WHERE state = 'done' AND size = ?", {
            pluck: true,
          })
          .get([REFUSED_FILE_SIZE]),
      ).toBe(1);
    expect(blobs()).toBe(before);
  }, 300_000);
});
