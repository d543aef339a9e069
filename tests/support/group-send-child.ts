// A separate process that opens a profile, queues group messages and
// encrypts them (distributing its chain first): the crash test kills it with
// SOTTO_TEST_FAULT=group.encrypted.<n> (SIGKILL after the n-th groupEncrypt,
// before its commit) and checks no iteration is ever reused.
// Usage: node --import tsx group-send-child.ts <profile dir> <group id> <first> <count>
import { Profile } from '../../electron/core/index.ts';
import {
  distributeSenderKeys,
  encryptGroupQueued,
  queueGroupText,
} from '../../electron/core/groups/group-queue.ts';

const [dir, groupId, first, count] = process.argv.slice(2) as [string, string, string, string];
const profile = await Profile.open(dir, { passphrase: process.env['SOTTO_PASSPHRASE'] ?? '' });
try {
  for (let i = 0; i < Number(count); i++) queueGroupText(profile, groupId, `m${Number(first) + i}`);
  await distributeSenderKeys(profile);
  await encryptGroupQueued(profile);
} finally {
  await profile.close();
}
