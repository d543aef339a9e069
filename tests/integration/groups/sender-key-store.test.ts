import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  groupDecrypt,
  groupEncrypt,
  ProtocolAddress,
  processSenderKeyDistributionMessage,
  SenderKeyDistributionMessage,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { SenderKeyUnit } from '../../../electron/core/groups/sender-key-store.ts';
import { tempDir } from '../../support/profiles.ts';

// libsignal's own group cases (rust/protocol/tests/groups.rs, ProtocolTest.ts),
// ported onto Sotto's SQLCipher SenderKeyStore: every step runs in a fresh
// unit of work over a real database file and commits, so each case also
// proves the records survive the round trip through SQLCipher.

const sender = ProtocolAddress.new('6f1c4a0e-2b7d-4c1e-9a3b-5d8e7f6a1b2c', 1);
const text = (s: string) => new TextEncoder().encode(s);

function database(): Sql {
  const db = openKeyed(join(tempDir(), 'sk.db'), randomBytes(32));
  migrate(db);
  return db;
}

/** Runs `work` in a unit of work over `db` and commits its writes in one transaction. */
async function inUnit<T>(db: Sql, work: (unit: SenderKeyUnit) => Promise<T>): Promise<T> {
  const unit = new SenderKeyUnit(db);
  const result = await work(unit);
  db.transaction(() => unit.write(db))();
  return result;
}

async function pair() {
  const a = database();
  const b = database();
  const distributionId = randomUUID();
  const skdm = await inUnit(a, (u) =>
    SenderKeyDistributionMessage.create(sender, distributionId, u.store),
  );
  const encrypt = (message: string) =>
    inUnit(a, async (u) =>
      (await groupEncrypt(sender, distributionId, u.store, text(message))).serialize(),
    );
  const decrypt = (ciphertext: Uint8Array<ArrayBuffer>) =>
    inUnit(b, async (u) =>
      new TextDecoder().decode(await groupDecrypt(sender, u.store, ciphertext)),
    );
  const join = () =>
    inUnit(b, (u) =>
      processSenderKeyDistributionMessage(
        sender,
        SenderKeyDistributionMessage.deserialize(skdm.serialize()),
        u.store,
      ),
    );
  return { a, b, distributionId, skdm, encrypt, decrypt, join };
}

describe('sender-key store (libsignal group cases over SQLCipher)', () => {
  it('group_no_send_session: encrypting without a record fails', async () => {
    const db = database();
    await expect(
      inUnit(db, (u) => groupEncrypt(sender, randomUUID(), u.store, text('x'))),
    ).rejects.toThrow(/sender key/i);
  });

  it('group_no_recv_session: decrypting without a record fails with "missing sender key state"', async () => {
    const { encrypt } = await pair();
    const other = database();
    const ciphertext = await encrypt('hello');
    await expect(inUnit(other, (u) => groupDecrypt(sender, u.store, ciphertext))).rejects.toThrow(
      /missing sender key state/,
    );
  });

  it('group_basic_encrypt_decrypt, and create() returns the same chain at the next iteration', async () => {
    const { a, distributionId, skdm, encrypt, decrypt, join } = await pair();
    expect(skdm.distributionId()).toBe(distributionId);
    expect(skdm.iteration()).toBe(0);
    await join();
    expect(await decrypt(await encrypt('smert ze smert'))).toBe('smert ze smert');
    const again = await inUnit(a, (u) =>
      SenderKeyDistributionMessage.create(sender, distributionId, u.store),
    );
    expect(again.chainId()).toBe(skdm.chainId());
    expect(again.iteration()).toBe(1);
  });

  it('group_late_join: an SKDM from iteration 0 processed after 100 messages still opens the next one', async () => {
    const { encrypt, decrypt, join } = await pair();
    for (let i = 0; i < 100; i++) await encrypt(`up the punks ${i}`);
    await join();
    expect(await decrypt(await encrypt('welcome bob'))).toBe('welcome bob');
  });

  it('group_out_of_order: 100 shuffled ciphertexts all decrypt', async () => {
    const { encrypt, decrypt, join } = await pair();
    await join();
    const sent: { text: string; ct: Uint8Array<ArrayBuffer> }[] = [];
    for (let i = 0; i < 100; i++) sent.push({ text: `m${i}`, ct: await encrypt(`m${i}`) });
    const shuffled = [...sent].sort(() => (randomBytes(1)[0]! < 128 ? -1 : 1));
    for (const { text: t, ct } of shuffled) expect(await decrypt(ct)).toBe(t);
  });

  it('a replayed ciphertext is DuplicatedMessage (the iteration was committed)', async () => {
    const { encrypt, decrypt, join } = await pair();
    await join();
    const ct = await encrypt('once');
    expect(await decrypt(ct)).toBe('once');
    await expect(decrypt(ct)).rejects.toMatchObject({ name: 'DuplicatedMessage' });
  });

  it('group_too_far_in_the_future: a jump over 25,000 iterations fails', async () => {
    const { a, distributionId, decrypt, join } = await pair();
    await join();
    // One unit for the 25,001 encryptions (fast), committed once.
    const far = await inUnit(a, async (u) => {
      let last: Uint8Array<ArrayBuffer> = new Uint8Array();
      for (let i = 0; i < 25_002; i++)
        last = (await groupEncrypt(sender, distributionId, u.store, text('x'))).serialize();
      return last;
    });
    await expect(decrypt(far)).rejects.toThrow(/too far/);
  }, 120_000);

  it('group_message_key_limit: of 2,010 messages [1000] and [2009] decrypt, then [0] fails', async () => {
    const { a, distributionId, decrypt, join } = await pair();
    await join();
    const cts = await inUnit(a, async (u) => {
      const out: Uint8Array<ArrayBuffer>[] = [];
      for (let i = 0; i < 2010; i++)
        out.push((await groupEncrypt(sender, distributionId, u.store, text(`${i}`))).serialize());
      return out;
    });
    expect(await decrypt(cts[1000]!)).toBe('1000');
    expect(await decrypt(cts[2009]!)).toBe('2009');
    await expect(decrypt(cts[0]!)).rejects.toThrow();
  }, 120_000);

  it('a unit that is not written leaves the database as it was: the same iteration is produced again', async () => {
    const { a, distributionId, join, decrypt } = await pair();
    await join();
    const lost = new SenderKeyUnit(a);
    const first = await groupEncrypt(sender, distributionId, lost.store, text('lost'));
    // Crash: `lost` never committed. The next unit reuses the iteration (that is why R4 commits it with the outbox row).
    const second = await inUnit(a, (u) =>
      groupEncrypt(sender, distributionId, u.store, text('kept')),
    );
    expect(Buffer.from(second.serialize().subarray(0, 8))).toEqual(
      Buffer.from(first.serialize().subarray(0, 8)),
    );
    expect(await decrypt(second.serialize())).toBe('kept');
  });

  it('a nested unit reaches the database only when merged; a removal resets our chain', async () => {
    const { a, distributionId, skdm } = await pair();
    const root = new SenderKeyUnit(a);
    const child = root.child();
    child.remove(`${sender.name()}.1`, distributionId);
    expect(root.read(`${sender.name()}.1`, distributionId)).toBeDefined();
    child.mergeIntoParent();
    expect(root.read(`${sender.name()}.1`, distributionId)).toBeUndefined();
    a.transaction(() => root.write(a))();
    const fresh = await inUnit(a, (u) =>
      SenderKeyDistributionMessage.create(sender, distributionId, u.store),
    );
    expect(fresh.iteration()).toBe(0);
    expect(fresh.chainId()).not.toBe(skdm.chainId());
  });

  it('a damaged stored record reads as missing (a retry request, not a crash)', async () => {
    const { b, encrypt, join } = await pair();
    await join();
    b.prepare('UPDATE sender_keys SET record = ?').run([randomBytes(40)]);
    const ct = await encrypt('x');
    await expect(inUnit(b, (u) => groupDecrypt(sender, u.store, ct))).rejects.toThrow(
      /missing sender key state/,
    );
  });

  it('re-processing the same SKDM keeps the state: it does not rewind, a replay stays DuplicatedMessage', async () => {
    const { encrypt, decrypt, join } = await pair();
    await join();
    const sent = [await encrypt('one'), await encrypt('two'), await encrypt('three')];
    for (const ct of sent) await decrypt(ct);
    await join(); // the same distribution message again (a retry answer, a replay)
    await expect(decrypt(sent[1]!)).rejects.toMatchObject({ name: 'DuplicatedMessage' });
    expect(await decrypt(await encrypt('four'))).toBe('four');
  });

  it('a record keeps the five newest chains of a distribution id: a sixth evicts the oldest', async () => {
    const b = database();
    const distributionId = randomUUID();
    const chains: Uint8Array<ArrayBuffer>[] = [];
    // Six chains under one distribution id: the sender lost its record each time (a restore).
    for (let i = 0; i < 6; i++) {
      const a = database();
      const skdm = await inUnit(a, (u) =>
        SenderKeyDistributionMessage.create(sender, distributionId, u.store),
      );
      await inUnit(b, (u) => processSenderKeyDistributionMessage(sender, skdm, u.store));
      chains.push(
        await inUnit(a, async (u) =>
          (await groupEncrypt(sender, distributionId, u.store, text(`chain ${i}`))).serialize(),
        ),
      );
    }
    const open = (ct: Uint8Array<ArrayBuffer>) =>
      inUnit(b, async (u) => new TextDecoder().decode(await groupDecrypt(sender, u.store, ct)));
    await expect(open(chains[0]!)).rejects.toThrow(/missing sender key state|No sender key state/i);
    for (let i = 1; i < 6; i++) expect(await open(chains[i]!)).toBe(`chain ${i}`);
  });
});
