// A separate process that opens a profile and runs one key-maintenance pass
// against a FileHomeRelay: the crash tests kill it with SOTTO_TEST_FAULT
// (SIGKILL at a chosen point) and inspect what it left behind.
// Usage: node --import tsx maintain-keys-child.ts <profile dir> <relay file> <now ms>
import { Profile } from '../../electron/core/index.ts';
import { maintainKeys } from '../../electron/core/crypto/key-maintenance.ts';
import { FileHomeRelay } from './file-home-relay.ts';

const [dir, relayFile, now] = process.argv.slice(2) as [string, string, string];
const profile = await Profile.open(dir, { passphrase: process.env['SOTTO_PASSPHRASE'] ?? '' });
try {
  const report = await maintainKeys(profile, new FileHomeRelay(relayFile), Number(now));
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await profile.close();
}
