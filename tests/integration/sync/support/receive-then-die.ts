// A separate process that opens a profile and drains its mailbox from the
// profile's home relay, but SIGKILLs itself when the engine is about to ack:
// after the batch's commit, before any ack reached the relay.
// Usage: node --import tsx receive-then-die.ts <profile dir>   (SOTTO_PASSPHRASE)
import { Profile } from '../../../../electron/core/index.ts';
import { SyncEngine } from '../../../../electron/core/sync/engine.ts';

const [dir] = process.argv.slice(2) as [string];
const profile = await Profile.open(dir, { passphrase: process.env['SOTTO_PASSPHRASE'] ?? '' });
const engine = new SyncEngine(profile);
engine.home.ack = () => {
  process.kill(process.pid, 'SIGKILL');
  return new Promise<void>(() => undefined);
};
await engine.receive({ firstWaitMs: 10_000 });
process.stdout.write('returned without acking\n');
