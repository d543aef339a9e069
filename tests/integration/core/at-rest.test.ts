import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { processEnvelopes, profilePaths, queueText } from '../../../electron/core/index.ts';
import { unwrapDatabaseKey } from '../../../electron/core/keys/database-key.ts';
import { readKeyFile } from '../../../electron/core/keys/keyfile.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

const SECRET_TEXT = 'the treasure is under the old lighthouse';
const CJK_TEXT = '秘密の会議は金曜日です';

function filesOf(dir: string): { name: string; bytes: Buffer }[] {
  return readdirSync(dir).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
}

/** Every encoding a careless write could leave a secret in. */
function needles(secret: Uint8Array | string): Buffer[] {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const out = [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64'))];
  if (typeof secret === 'string') out.push(Buffer.from(secret, 'utf16le'));
  return out.filter((n) => n.length >= 8);
}

describe('at rest, a profile directory holds nothing readable', () => {
  it('no file (database, WAL, key file, anything) contains message text, names or key bytes in the clear', async () => {
    const alice = await newProfile('Alice Wonderland-Secret');
    const bob = await newProfile('Bob Hiddenname');
    await introduce(alice.profile, bob.profile);
    queueText(alice.profile, bob.profile.account.accountId, SECRET_TEXT);
    queueText(alice.profile, bob.profile.account.accountId, CJK_TEXT);
    await processEnvelopes(bob.profile, await flushOutbox(alice.profile));

    const paths = profilePaths(bob.dir);
    const key = await unwrapDatabaseKey(readKeyFile(paths.keyFile), { passphrase: bob.passphrase });
    const secrets: (string | Uint8Array)[] = [
      SECRET_TEXT,
      CJK_TEXT,
      'Alice Wonderland-Secret',
      'Bob Hiddenname',
      key,
      bob.profile.account.identity.privateKey.serialize(),
      bob.profile.account.identity.publicKey.serialize().subarray(1),
      alice.profile.account.identity.publicKey.serialize().subarray(1),
    ];
    // Check while open (WAL and shm present) and again after a clean close.
    for (const phase of ['open', 'closed']) {
      if (phase === 'closed') await bob.profile.close();
      const files = filesOf(bob.dir);
      expect(files.length).toBeGreaterThanOrEqual(3);
      for (const file of files) {
        for (const secret of secrets) {
          for (const needle of needles(secret)) {
            expect(file.bytes.includes(needle), `${phase}: ${file.name} leaks a secret`).toBe(
              false,
            );
          }
        }
      }
    }
    await alice.profile.close();
  });

  it('the database is genuine SQLCipher v4: an independent implementation opens it with the key, and not without', async () => {
    const bob = await newProfile('Bob');
    const alice = await newProfile('Alice');
    await introduce(alice.profile, bob.profile);
    queueText(alice.profile, bob.profile.account.accountId, SECRET_TEXT);
    await processEnvelopes(bob.profile, await flushOutbox(alice.profile));
    await bob.profile.close();
    const paths = profilePaths(bob.dir);
    const key = await unwrapDatabaseKey(readKeyFile(paths.keyFile), { passphrase: bob.passphrase });

    const withKey = new Database(paths.database, { readonly: true });
    withKey.pragma("cipher = 'sqlcipher'");
    withKey.pragma('legacy = 4');
    withKey.pragma(`key = "x'${Buffer.from(key).toString('hex')}'"`);
    expect(withKey.prepare('SELECT body FROM messages').pluck().all()).toEqual([SECRET_TEXT]);
    withKey.close();

    const withoutKey = new Database(paths.database, { readonly: true });
    expect(() => withoutKey.prepare('SELECT count(*) FROM sqlite_master').get()).toThrow(
      /not a database/,
    );
    withoutKey.close();

    const wrongKey = new Database(paths.database, { readonly: true });
    wrongKey.pragma("cipher = 'sqlcipher'");
    wrongKey.pragma('legacy = 4');
    wrongKey.pragma(`key = "x'${'00'.repeat(32)}'"`);
    expect(() => wrongKey.prepare('SELECT count(*) FROM sqlite_master').get()).toThrow(
      /not a database/,
    );
    wrongKey.close();
    await alice.profile.close();
  });
});
