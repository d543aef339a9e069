import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import type { ComposeOptions } from '../../../electron/core/attachments/compose-seal.ts';
import { createGroup } from '../../../electron/core/groups/group-ops.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { ComposeSends } from '../../../electron/core/service/compose-sends.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import {
  type AttachmentRelay,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { befriend, type Person, person, settle } from '../../support/group-world.ts';
import { watchedUploads } from '../../support/attachment-transfer.ts';
import { tempDir } from '../../support/profiles.ts';

// A group send of a file ≥ 4 MiB goes through upload while sealing
// (sealing-upload.ts) like a 1:1 send: one reservation started during the
// seal, one blob, one pointer in the one group message every member gets.
// Three profiles, each with its engine, on a relay process; the counter
// around Alice's uploads only watches bytes go by and acts at a point of
// progress (no timing decides anything).

const SIZE = 24 * 1024 * 1024;
const LENGTH = ciphertextSize(SIZE);

const startRelay = useAttachmentRelays();

/** Alice, Bob and Carol on a relay process, in Alice's group `title`, settled. */
async function trio(title: string) {
  const relay = await startRelay('ws');
  const alice = await person('Alice', relay.address);
  const bob = await person('Bob', relay.address);
  const carol = await person('Carol', relay.address);
  befriend(alice, bob);
  befriend(alice, carol);
  const all = [alice, bob, carol];
  const group = await createGroup(alice.profile, title, [
    bob.profile.account.accountId,
    carol.profile.account.accountId,
  ]);
  await settle(all);
  return { relay, alice, bob, carol, all, groupId: group.groupId };
}

/** Alice's home uploads with a count of the bytes handed to the relay; `onBytes` runs after each chunk. */
function counted(alice: Person, onBytes: (sent: number) => void = () => undefined) {
  const seen = { creates: 0, sent: 0 };
  const uploads = watchedUploads(
    () => alice.engine.pool.homeBlobs(),
    seen,
    () => onBytes(seen.sent),
  );
  return { uploads, seen };
}

/** Alice composes a SIZE-byte file with `caption` to the group. */
function compose(alice: Person, groupId: string, caption: string, options: ComposeOptions) {
  const path = testFile(tempDir(), `${caption}.bin`, SIZE);
  return queueGroupAttachmentMessage(
    alice.profile,
    groupId,
    [{ path }],
    caption,
    undefined,
    options,
  );
}

/** The group messages with `caption` in `p`'s copy of the group. */
function messagesWith(p: Person, groupId: string, caption: string): number[] {
  const group = loadGroup(p.profile.db, groupId);
  if (!group) return [];
  return p.profile.db
    .prepare('SELECT id FROM group_messages WHERE group_ref = ? AND body = ?', { pluck: true })
    .all<number>([group.ref, caption]);
}

/**
 * Each member receives until the message with `caption` is in (the relay
 * process hands mail over asynchronously: a pass may come before it), then
 * holds exactly one such message with one file, saved byte-identical.
 */
async function everyMemberHasOne(members: Person[], groupId: string, caption: string) {
  for (const member of members) {
    for (let pass = 0; pass < 40 && messagesWith(member, groupId, caption).length === 0; pass++)
      await member.engine.receive({ firstWaitMs: 500, idleMs: 0 });
    const ids = messagesWith(member, groupId, caption);
    expect(ids, member.name).toHaveLength(1);
    const files = attachmentsOf(member.profile, { groupMessageIds: ids });
    expect(
      files.map((f) => [f.state, f.size]),
      member.name,
    ).toEqual([['done', SIZE]]);
    const out = join(tempDir(), 'saved.bin');
    await saveAttachment(member.profile, files[0]!.id, out);
    expect(readFileSync(out).equals(testBytes(SIZE, `${caption}.bin`)), member.name).toBe(true);
  }
}

/** Complete blobs on the relay. */
const completeBlobs = (relay: AttachmentRelay) =>
  [...relay.blobSizes().values()].filter((size) => size >= LENGTH);

/** Files Alice's profile holds under attachments/ (stored copies and temp files). */
function profileFiles(p: Person): string[] {
  const dir = join(p.dir, 'attachments');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) =>
    statSync(join(dir, n)).isFile(),
  );
}

describe('a group send of a large file uploads while it is sealed', () => {
  it('one reservation begun during the seal, one blob; each member gets exactly one pointer, byte-identical after save', async () => {
    const { relay, alice, bob, carol, all, groupId } = await trio('Films');
    const { uploads, seen } = counted(alice);
    await compose(alice, groupId, 'the whole film', { uploads });
    expect(seen.sent).toBeGreaterThan(0); // bytes left while the file was sealed
    // The reservation was committed with the row, and nothing went to a member yet (R2).
    const [row] = attachmentsOf(alice.profile, {
      groupMessageIds: messagesWith(alice, groupId, 'the whole film'),
    });
    expect(row?.state).toBe('uploading');
    await settle([bob, carol]);
    expect([bob, carol].map((m) => messagesWith(m, groupId, 'the whole film'))).toEqual([[], []]);

    await settle(all);
    expect(seen.creates).toBe(1);
    expect([...relay.blobSizes().values()]).toEqual([LENGTH]);
    await everyMemberHasOne([bob, carol], groupId, 'the whole film');
  });

  it('the relay process stopped mid-seal and started again on its data: the same reservation resumes, one pointer each', async () => {
    const { relay, alice, bob, carol, all, groupId } = await trio('Outage');
    let stopping: Promise<void> | undefined;
    const { uploads, seen } = counted(alice, (sent) => {
      if (sent >= 4 * 1024 * 1024) stopping ??= relay.down();
    });
    await compose(alice, groupId, 'through the outage', { uploads });
    await stopping;
    expect(stopping).toBeDefined();
    await relay.up();
    await settle(all);
    expect(seen.creates).toBe(1);
    expect(completeBlobs(relay)).toEqual([LENGTH]);
    await everyMemberHasOne([bob, carol], groupId, 'through the outage');
  });

  it('a Cancel mid-seal (the service’s send table) leaves no group message at any member; sent again, each gets one', async () => {
    const { relay, alice, bob, carol, all, groupId } = await trio('Mistake');
    const sends = new ComposeSends(() => undefined);
    const sendId = randomUUID();
    const run = sends.begin(sendId);
    let cancelled: boolean | undefined;
    const { uploads, seen } = counted(alice, () => {
      cancelled ??= sends.cancel(alice.profile, sendId);
    });
    const code = await rejectedCode(() =>
      compose(alice, groupId, 'not this one', { uploads, ...run.options }),
    );
    run.refused();
    expect(code).toBe('CANCELLED');
    expect(cancelled).toBe(true);
    expect(seen.sent).toBeGreaterThan(0); // the cancel came mid-upload
    expect(sends.cancel(alice.profile, sendId)).toBe(false);

    await settle(all);
    expect(
      alice.profile.db.prepare('SELECT count(*) FROM attachments', { pluck: true }).get(),
    ).toBe(0);
    expect(messagesWith(alice, groupId, 'not this one')).toEqual([]);
    expect(profileFiles(alice)).toEqual([]);
    expect(completeBlobs(relay)).toEqual([]);

    const again = counted(alice);
    await compose(alice, groupId, 'this one', { uploads: again.uploads });
    await settle(all);
    await everyMemberHasOne([bob, carol], groupId, 'this one');
    // Mail arrives in order: with the later message in, the cancelled one would be in too.
    for (const member of all) expect(messagesWith(member, groupId, 'not this one')).toEqual([]);
  });
});
