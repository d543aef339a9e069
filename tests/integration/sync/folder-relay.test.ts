import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderRelay } from '../../../electron/core/sync/folder-relay.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

describe('folder relay', () => {
  it("ignores files it did not write (a sync tool's conflict copies) and never fails an ack over them", async () => {
    const root = join(tempDir(), 'relay');
    const { profile: bob } = await newProfile('Bob');
    const { profile: alice } = await newProfile('Alice');
    const asBob = new FolderRelay(root, { accountId: bob.account.accountId, deviceId: 1 });
    const asAlice = new FolderRelay(root, { accountId: alice.account.accountId, deviceId: 1 });
    await asAlice.send({
      clientMessageId: '7f9c2ba4-e88f-4e0a-9c6b-0b6f3f0c2a11',
      recipient: bob.account.accountId,
      recipientDevice: 1,
      type: 2,
      body: new Uint8Array([1, 2, 3]),
    });
    const mailbox = join(root, 'mail', `${bob.account.accountId}.1`);
    const [real] = readdirSync(mailbox);
    mkdirSync(mailbox, { recursive: true });
    writeFileSync(join(mailbox, `${real!.slice(0, -4)} (conflicted copy).env`), 'garbage');
    writeFileSync(join(mailbox, 'notes.env'), 'garbage');

    const received = await asBob.receive(10, 0);
    expect(received.map((e) => `${e.id}.env`)).toEqual([real]);
    await expect(asBob.ack(['notes', '../../keys/x', received[0]!.id])).resolves.toBeUndefined();
    expect(readdirSync(mailbox).sort()).toEqual([`${real!.slice(0, -4)} (conflicted copy).env`, 'notes.env']);
  });
});
