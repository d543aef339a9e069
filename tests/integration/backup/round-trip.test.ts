import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addContact,
  importBackup,
  messagesPage,
  Profile,
  queueText,
  verifyBackup,
} from '../../../electron/core/index.ts';
import { rejectedEnvelopeCount } from '../../../electron/core/messaging/receive.ts';
import { setSetting } from '../../../electron/core/profile/settings.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import {
  addHistory,
  BACKUP_PASSPHRASE,
  backupCli,
  digestsOf,
  profileDigests,
  TEST_SCRYPT_LOG_N,
} from '../../support/backup.ts';
import { CLI_PASSPHRASE } from '../../support/cli.ts';
import { cardOf, TEST_KDF, tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// The backup round trip goes through the real CLI (export and import are
// child processes); the conversation around it runs the core in-process
// against a real relay process.

const relays: RelayProcess[] = [];
const open: { profile: Profile; engine: SyncEngine }[] = [];
afterEach(async () => {
  for (const { profile, engine } of open.splice(0)) {
    await engine.close();
    await profile.close();
  }
  for (const relay of relays.splice(0)) await relay.stop();
});

const MESSAGES = 100_000;

/** A profile on the relay: opened (or created) with the CLI's passphrase, token registered, keys published. */
async function person(dir: string, name: string, relay: string, create: boolean) {
  const profile = create
    ? await Profile.create(dir, {
        displayName: name,
        passphrase: CLI_PASSPHRASE,
        kdfCost: TEST_KDF,
      })
    : await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
  if (create) setSetting(profile.db, 'relay', relay);
  const engine = new SyncEngine(profile);
  // Registers the delivery token (contacts' sends are refused until the relay has it) and pins the relay id.
  await engine.connectHome();
  await engine.publishKeys();
  const entry = { profile, engine };
  open.push(entry);
  return entry;
}

async function closePerson(entry: { profile: Profile; engine: SyncEngine }): Promise<void> {
  open.splice(open.indexOf(entry), 1);
  await entry.engine.close();
  await entry.profile.close();
}

const say = async (from: { profile: Profile; engine: SyncEngine }, to: AccountId, body: string) => {
  queueText(from.profile, to, body);
  return from.engine.sendOutbox();
};
const receive = (p: { engine: SyncEngine }) =>
  p.engine.receive({ firstWaitMs: 1_500, idleMs: 300 });
const bodies = (p: { profile: Profile }, conversationId: number) =>
  messagesPage(p.profile.db, conversationId, 50).map((m) => m.body);

describe('backup round trip through the CLI, then the restored profile keeps talking', () => {
  it(`${MESSAGES.toLocaleString('en-US')} messages, contacts, verified state, drafts and settings come back equal; chat resumes both ways through a relay`, async () => {
    const relay = await startRelayProcess(tempDir());
    relays.push(relay);
    const root = tempDir();
    const aliceDir = join(root, 'alice');
    let alice = await person(aliceDir, 'Alice', relay.url, true);
    const bob = await person(join(root, 'bob'), 'Bob', relay.url, true);
    const aliceId = alice.profile.account.accountId;
    const bobId = bob.profile.account.accountId;
    addContact(alice.profile, { ...cardOf(bob.profile, relay.url), relayId: relay.relayId });
    const bobsAlice = addContact(bob.profile, {
      ...cardOf(alice.profile, relay.url),
      relayId: relay.relayId,
    });

    // Sessions both ways before the backup: Bob holds a session with the old device.
    await say(alice, bobId, 'before the backup');
    await receive(bob);
    await say(bob, aliceId, 'hello Alice');
    await receive(alice);

    // A large history, a draft, and one message still queued when the backup is made.
    addHistory(alice.profile, MESSAGES, { contacts: 30, extraPeers: [bobId] });
    alice.profile.commit(undefined, (db) =>
      db.prepare("UPDATE conversations SET draft = 'unsent <draft>' WHERE id = 2").run(),
    );
    queueText(alice.profile, bobId, 'queued when the backup was made');
    await closePerson(alice);

    const file = join(root, 'alice.age');
    const exported = JSON.parse(
      await backupCli(aliceDir, [
        '--json',
        'backup',
        'export',
        file,
        '--scrypt-work-factor',
        String(TEST_SCRYPT_LOG_N),
      ]),
    ) as { manifest: { counts: { message: number; contact: number } } };
    expect(exported.manifest.counts).toMatchObject({ message: MESSAGES + 3, contact: 31 });
    expect((await verifyBackup(file, BACKUP_PASSPHRASE)).counts.message).toBe(MESSAGES + 3);

    const before = await digestsOf(aliceDir, CLI_PASSPHRASE);
    const restoredDir = join(root, 'alice-restored');
    const imported = JSON.parse(
      await backupCli(restoredDir, [
        '--json',
        'backup',
        'import',
        file,
        '--kdf-memory',
        '64',
        '--kdf-iterations',
        '3',
      ]),
    ) as { created: boolean; messagesInserted: number; requeued: number };
    expect(imported).toMatchObject({ created: true, messagesInserted: MESSAGES + 3, requeued: 1 });
    const after = await digestsOf(restoredDir, CLI_PASSPHRASE);
    expect(after).toEqual(before);
    expect(after.verified).toBeGreaterThanOrEqual(10);

    // Bob writes before the restored profile has said anything: on his old session.
    await say(bob, aliceId, 'sent to the old session');
    alice = await person(restoredDir, 'Alice', relay.url, false);
    // Its first sync starts new sessions: a receipt to Bob, then the message that was queued.
    expect((await alice.engine.sendOutbox()).sent).toBeGreaterThanOrEqual(2);
    // The old-session message cannot be decrypted without the old ratchet: retried, then shown as failed.
    // (Bob's automatic receipt for 'before the backup' waits 1-10 s and may leave on the old session too.)
    const lost = await receive(alice);
    expect(lost).toMatchObject({ stored: 0 });
    expect(lost.retry).toBeGreaterThanOrEqual(1);
    expect(lost.retry).toBeLessThanOrEqual(2);
    expect(await receive(bob)).toMatchObject({ stored: 1 }); // the queued message, once; the receipt switched Bob's session

    await say(bob, aliceId, 'after the restore');
    expect(await receive(alice)).toMatchObject({ stored: 1 });
    await say(alice, bobId, 'restored Alice here');
    expect(await receive(bob)).toMatchObject({ stored: 1 });
    // The envelopes were acked and kept in the profile (unprocessed_envelopes): the drain that stored
    // 'after the restore' retried them (attempt two), and a restart retries them once more (attempt
    // three), after which they are given up on and shown to the user (R5).
    await alice.engine.close();
    alice.engine = new SyncEngine(alice.profile);
    expect(await receive(alice)).toMatchObject({ rejected: lost.retry, retry: 0 });

    const aliceBob = alice.profile.db
      .prepare(
        'SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?',
        { pluck: true },
      )
      .get([bobId]) as number;
    expect(bodies(alice, aliceBob)).toContain('after the restore');
    expect(bodies(alice, aliceBob)).not.toContain('sent to the old session');
    const atBob = bodies(bob, bobsAlice.conversationId);
    expect(atBob).toContain('restored Alice here');
    expect(atBob.filter((b) => b === 'queued when the backup was made')).toHaveLength(1);
    expect(rejectedEnvelopeCount(alice.profile.db)).toBe(lost.retry);
    await closePerson(alice);

    // Restoring the same backup again (now a merge into the restored profile) adds nothing.
    const again = await importBackup(restoredDir, file, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase: CLI_PASSPHRASE },
    });
    expect(again).toMatchObject({
      created: false,
      messagesInserted: 0,
      messagesSkipped: MESSAGES + 3,
    });
    const reopened = await Profile.open(restoredDir, { passphrase: CLI_PASSPHRASE });
    expect(profileDigests(reopened.db).messageCount).toBe(MESSAGES + 3 + 2);
    await reopened.close();
  });
});
