import { addContactFromInvite, Profile } from '../../electron/core/index.ts';
import { queueAttachmentMessage } from '../../electron/core/attachments/compose.ts';
import { attachmentsOf, saveAttachment } from '../../electron/core/attachments/attachment-files.ts';
import { profileInvite } from '../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../electron/core/sync/home-relay-setting.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

// One attachment end to end in a fresh process, so its peak RSS is its own:
// encrypt + upload (Alice), download + verify + local re-encrypt (Bob), then
// decrypt to a file (save). Usage: child.ts DIR RELAY SOURCE_FILE. Prints one JSON line.

const [dir, relay, source] = process.argv.slice(2) as [string, string, string];
const KDF = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

function highWaterMB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

function resetHighWater(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the peak then includes the setup
  }
}

async function person(name: string): Promise<{ profile: Profile; engine: SyncEngine }> {
  const profile = await Profile.create(join(dir, name), {
    displayName: name,
    passphrase: `${name} bench passphrase, long enough`,
    kdfCost: KDF,
  });
  setHomeRelay(profile, relay);
  const engine = new SyncEngine(profile);
  await engine.registerToken();
  await engine.publishKeys();
  return { profile, engine };
}

const alice = await person('Alice');
const bob = await person('Bob');
addContactFromInvite(alice.profile, profileInvite(bob.profile));
addContactFromInvite(bob.profile, profileInvite(alice.profile));
const idleMB = process.memoryUsage().rss / 2 ** 20;
resetHighWater();
const cpuBefore = process.cpuUsage();
const started = performance.now();
await queueAttachmentMessage(
  alice.profile,
  bob.profile.account.accountId,
  [{ path: source }],
  '',
  undefined,
  // As the CLI and the app do: a large file starts uploading while it is sealed.
  { uploads: () => alice.engine.pool.homeBlobs() },
);
await alice.engine.sendOutbox();
const sentAt = performance.now();
await bob.engine.receive({ firstWaitMs: 100, idleMs: 0 });
const receivedAt = performance.now();
const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
const [attachment] = attachmentsOf(bob.profile, { messageIds: ids });
if (attachment?.state !== 'done') throw new Error('attachment not downloaded');
const savingAt = performance.now();
await saveAttachment(bob.profile, attachment.id, join(dir, 'saved'));
const ms = performance.now() - started;
// CPU of every thread (main, libuv pool, SQLCipher): less sensitive to a busy machine than the wall clock.
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
// The kernel's share (page-cache copies of the file writes, fsyncs): half of it under load.
const systemMs = cpu.system / 1000;
const peakMB = highWaterMB();
for (const p of [alice, bob]) {
  await p.engine.close();
  await p.profile.close();
}
process.stdout.write(
  `${JSON.stringify({ ms, sendMs: sentAt - started, receiveMs: receivedAt - sentAt, saveMs: ms - (savingAt - started), cpuMs, systemMs, bytes: attachment.size, idleMB, peakMB })}\n`,
);
