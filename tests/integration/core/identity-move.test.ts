import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PublicKey } from '@signalapp/libsignal-client';
import {
  acceptIdentityChange,
  encryptQueued,
  getContact,
  listConversations,
  markVerified,
  messagesPage,
  processEnvelopes,
  type Profile,
  publishedKeys,
  queueText,
  safetyNumber,
  startSession,
} from '../../../electron/core/index.ts';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import {
  announcePendingMove,
  type MoveDestination,
  resetIdentity,
  signMoveNotice,
} from '../../../electron/core/crypto/identity-reset.ts';
import { SottoError } from '../../../electron/core/errors.ts';
import { FileHomeRelay } from '../../support/file-home-relay.ts';
import { trustRefusalCounts } from '../../../electron/core/crypto/trust-refusals.ts';
import { type Content, decodeContent, encodeContent } from '../../../shared/protocol/content.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { moveNoticeMessage, type MoveNotice } from '../../../shared/relay/protocol.ts';
import { rejectedCode } from '../../support/errors.ts';
import { flushOutbox, introduce, newProfile, tempDir } from '../../support/profiles.ts';

const HOME: MoveDestination = {
  relay: 'ws://127.0.0.1:8787',
  relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
  token: randomBytes(16),
};

function count(profile: Profile, sql: string): number {
  return Number(profile.db.prepare(sql, { pluck: true }).get());
}

/** Queues any content to `recipient` as the outbox would (a hostile client can send anything). */
function queueRaw(profile: Profile, recipient: string, content: Content): void {
  profile.db
    .prepare(
      `INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at)
       VALUES ('receipt', ?, ?, 1, ?, 0)`,
    )
    .run([randomUUID(), recipient, encodeContent(content)]);
}

function movedContent(notice: MoveNotice): Content {
  return {
    v: 1,
    type: 'moved',
    notice,
    relay: HOME.relay,
    relayId: HOME.relayId,
    token: toBase64(HOME.token),
    sentAt: Date.now(),
  };
}

/** Alice and Bob talk; Bob resets his identity; Alice has the notice in her mailbox (not yet processed). */
async function bobResets() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  await introduce(alice, bob);
  queueText(alice, bob.account.accountId, 'before the reset');
  await processEnvelopes(bob, await flushOutbox(alice));
  const oldBob = bob.account;
  await resetIdentity(bob, HOME);
  // The new account starts a session with Alice from her bundle, as the engine would.
  await startSession(
    bob,
    takeBundle(publishedKeys(alice.db, alice.account), 5),
    alice.account.accountId,
  );
  return { alice, bob, oldBob };
}

describe('identity reset (the account that moves)', () => {
  it('makes a new account: new key and id, new registration id and prekeys, no sessions; history, contacts and settings stay', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(bob, alice);
    queueText(bob, alice.account.accountId, 'sent before');
    await processEnvelopes(alice, await flushOutbox(bob));
    bob.db.prepare("INSERT INTO settings (key, value) VALUES ('ui.theme', '\"dark\"')").run();
    const old = bob.account;
    const oldPreKeys = bob.db.prepare('SELECT id FROM pre_keys', { pluck: true }).all();

    const account = await resetIdentity(bob, HOME);
    expect(account.accountId).toBe(deriveAccountId(account.identity.publicKey));
    expect(account.accountId).not.toBe(old.accountId);
    expect(bob.account.accountId).toBe(account.accountId);
    expect(
      Buffer.from(account.identity.serialize()).equals(Buffer.from(old.identity.serialize())),
    ).toBe(false);
    expect(count(bob, 'SELECT count(*) FROM sessions')).toBe(0);
    expect(count(bob, 'SELECT count(*) FROM pre_keys')).toBe(100);
    expect(bob.db.prepare('SELECT id FROM pre_keys', { pluck: true }).all()).not.toEqual(
      oldPreKeys,
    );
    // The old private key is nowhere in the database any more.
    expect(
      count(
        bob,
        'SELECT count(*) FROM account WHERE identity_key_pair = x' +
          `'${Buffer.from(old.identity.serialize()).toString('hex')}'`,
      ),
    ).toBe(0);
    expect(count(bob, 'SELECT count(*) FROM messages')).toBe(1);
    expect(count(bob, 'SELECT count(*) FROM contacts')).toBe(1);
    expect(count(bob, "SELECT count(*) FROM settings WHERE key = 'ui.theme'")).toBe(1);

    // The kept notice verifies under the old key and names the new account.
    const notice = JSON.parse(
      String(bob.db.prepare('SELECT notice FROM own_moves', { pluck: true }).get()),
    ) as MoveNotice;
    expect(notice).toMatchObject({ from: old.accountId, to: account.accountId });
    const signed = moveNoticeMessage(
      notice.from,
      notice.to,
      fromBase64(notice.identityKey),
      notice.issuedAt,
    );
    expect(old.identity.publicKey.verify(signed, fromBase64(notice.signature))).toBe(true);
    expect(PublicKey.deserialize(fromBase64(notice.identityKey)).serialize()).toEqual(
      account.identity.publicKey.serialize(),
    );
  });

  it('queues the move notice to every contact ahead of what was already queued, which is re-encrypted later', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    await introduce(bob, alice);
    await introduce(bob, carol);
    const queued = queueText(bob, alice.account.accountId, 'queued before the reset');
    expect(await encryptQueued(bob)).toBe(1); // a ciphertext for the old identity's session
    await resetIdentity(bob, HOME);
    const rows = bob.db
      .prepare('SELECT recipient, payload, ciphertext FROM outbox ORDER BY id')
      .all<{
        recipient: string;
        payload: Uint8Array<ArrayBuffer>;
        ciphertext: Uint8Array<ArrayBuffer> | null;
      }>();
    expect(rows.map((r) => [r.recipient, decodeContent(r.payload).type])).toEqual([
      [alice.account.accountId, 'moved'],
      [carol.account.accountId, 'moved'],
      [alice.account.accountId, 'text'],
    ]);
    expect(rows.every((r) => r.ciphertext === null)).toBe(true);
    expect(decodeContent(rows[2]!.payload)).toMatchObject({
      type: 'text',
      id: queued.uuid,
      body: 'queued before the reset',
    });
  });
});

describe('a contact that moved (the receiving side)', () => {
  it('a signed move is held as a changed safety number, blocks sending until accepted, then re-points the conversation', async () => {
    const { alice, bob, oldBob } = await bobResets();
    queueText(bob, alice.account.accountId, 'hello from my new key');
    const outcomes = await processEnvelopes(alice, await flushOutbox(bob));
    expect(outcomes.map((o) => o.outcome)).toEqual(['control', 'stored']);

    const contact = getContact(alice.db, oldBob.accountId);
    expect(contact).toMatchObject({ trust: 'changed', verified: false });
    expect(listConversations(alice.db)).toHaveLength(1); // the new account's message is in Bob's conversation
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: true });
    expect(messagesPage(alice.db, contact.conversationId, 10).map((m) => m.body)).toEqual([
      'hello from my new key',
      'before the reset',
    ]);
    expect(await rejectedCode(() => queueText(alice, oldBob.accountId, 'not yet'))).toBe(
      'IDENTITY_CHANGED',
    );
    // The number to compare is the new account's: the same one Bob sees now.
    expect(safetyNumber(alice, oldBob.accountId).digits).toBe(
      safetyNumber(bob, alice.account.accountId).digits,
    );

    expect(acceptIdentityChange(alice, oldBob.accountId)).toBe(bob.account.accountId);
    const moved = getContact(alice.db, bob.account.accountId);
    expect(moved).toMatchObject({
      conversationId: contact.conversationId,
      trust: 'trusted',
      verified: false,
      relay: HOME.relay,
    });
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: false });
    expect(alice.state.getIdentity(oldBob.accountId)).toBeUndefined();
    queueText(alice, bob.account.accountId, 'welcome back');
    expect((await processEnvelopes(bob, await flushOutbox(alice))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
  });

  it('verifying a pending move accepts it and marks the new key verified; queued messages follow the contact', async () => {
    const { alice, bob, oldBob } = await bobResets();
    await processEnvelopes(alice, await flushOutbox(bob));
    expect(markVerified(alice, oldBob.accountId)).toBe(bob.account.accountId);
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({
      trust: 'trusted',
      verified: true,
    });
    expect(
      count(alice, `SELECT count(*) FROM outbox WHERE recipient = '${oldBob.accountId}'`),
    ).toBe(0);
  });

  it('an unsigned (badly signed) notice is refused, counted, and changes nothing', async () => {
    const { alice, bob, oldBob } = await bobResets();
    await flushOutbox(bob); // drop the genuine notice
    const genuine = signMoveNotice(oldBob, bob.account.identity, Date.now());
    const unsigned = { ...genuine, signature: toBase64(new Uint8Array(64)) };
    queueRaw(bob, alice.account.accountId, movedContent(unsigned));
    // Signed by the new key itself: not the key pinned for the account that moves.
    const selfSigned = {
      ...genuine,
      signature: toBase64(bob.account.identity.privateKey.sign(new Uint8Array(8))),
    };
    queueRaw(bob, alice.account.accountId, movedContent(selfSigned));
    await processEnvelopes(alice, await flushOutbox(bob));
    expect(trustRefusalCounts(alice.db)['move.bad-signature']).toBe(2);
    expect(getContact(alice.db, oldBob.accountId)).toMatchObject({ trust: 'trusted' });
    expect(count(alice, 'SELECT count(*) FROM identity_moves')).toBe(0);
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: false });
  });

  it('a genuine notice relayed by someone else is mis-addressed: a contact turned hostile cannot redirect Bob to itself', async () => {
    const { alice, bob, oldBob } = await bobResets();
    await flushOutbox(bob); // the genuine envelope never reaches Alice
    const { profile: carol } = await newProfile('Carol');
    await introduce(carol, alice);
    // Carol, a contact of Alice, forwards Bob's genuine notice from her own account.
    const bobNotice = signMoveNotice(oldBob, bob.account.identity, Date.now());
    queueRaw(carol, alice.account.accountId, movedContent(bobNotice));
    // And tries a notice "Bob moved to Carol", which the old key never signed.
    const forged = signMoveNotice(
      { ...oldBob, identity: carol.account.identity },
      carol.account.identity,
      Date.now(),
    );
    queueRaw(carol, alice.account.accountId, movedContent(forged));
    await processEnvelopes(alice, await flushOutbox(carol));
    expect(trustRefusalCounts(alice.db)).toMatchObject({
      'move.misaddressed': 1,
      'move.bad-signature': 1,
    });
    expect(getContact(alice.db, oldBob.accountId)).toMatchObject({ trust: 'trusted' });
    expect(count(alice, 'SELECT count(*) FROM identity_moves')).toBe(0);
  });

  it('a replayed or older notice is refused; a notice about a stranger is refused', async () => {
    const { alice, bob, oldBob } = await bobResets();
    const issued = Date.now();
    await flushOutbox(bob);
    queueRaw(
      bob,
      alice.account.accountId,
      movedContent(signMoveNotice(oldBob, bob.account.identity, issued)),
    );
    const [first] = await flushOutbox(bob);
    await processEnvelopes(alice, [first!]);
    expect(getContact(alice.db, oldBob.accountId).trust).toBe('changed');
    // The same notice again (a new envelope), and one issued earlier.
    queueRaw(
      bob,
      alice.account.accountId,
      movedContent(signMoveNotice(oldBob, bob.account.identity, issued)),
    );
    queueRaw(
      bob,
      alice.account.accountId,
      movedContent(signMoveNotice(oldBob, bob.account.identity, issued - 1000)),
    );
    const { profile: stranger } = await newProfile('Stranger');
    queueRaw(
      bob,
      alice.account.accountId,
      movedContent(signMoveNotice(stranger.account, bob.account.identity, issued + 1)),
    );
    await processEnvelopes(alice, await flushOutbox(bob));
    expect(trustRefusalCounts(alice.db)).toMatchObject({
      'move.replayed': 2,
      'move.unknown-account': 1,
    });
    expect(count(alice, 'SELECT count(*) FROM identity_moves')).toBe(1);
    // After acceptance the old account is gone: its notice can never re-apply.
    acceptIdentityChange(alice, oldBob.accountId);
    queueRaw(
      bob,
      alice.account.accountId,
      movedContent(signMoveNotice(oldBob, bob.account.identity, issued + 5000)),
    );
    await processEnvelopes(alice, await flushOutbox(bob));
    expect(trustRefusalCounts(alice.db)['move.unknown-account']).toBe(2);
    expect(getContact(alice.db, bob.account.accountId).trust).toBe('trusted');
  });

  it('a contact cannot "move" to itself, and a notice naming a non-key is refused without harm', async () => {
    const { alice, bob, oldBob } = await bobResets();
    await flushOutbox(bob);
    const { profile: carol } = await newProfile('Carol');
    await introduce(carol, alice);
    // Carol signs "Carol moved to Carol" with her own (pinned) key: it would reset Alice's verification of her.
    queueRaw(
      carol,
      alice.account.accountId,
      movedContent(signMoveNotice(carol.account, carol.account.identity, Date.now())),
    );
    // A notice whose new key is 33 bytes of nothing.
    const genuine = signMoveNotice(oldBob, bob.account.identity, Date.now());
    queueRaw(
      bob,
      alice.account.accountId,
      movedContent({ ...genuine, identityKey: toBase64(new Uint8Array(33)) }),
    );
    const outcomes = [
      ...(await processEnvelopes(alice, await flushOutbox(carol))),
      ...(await processEnvelopes(alice, await flushOutbox(bob))),
    ];
    expect(outcomes.map((o) => o.outcome)).toEqual(['control', 'control']); // acknowledged, nothing shown
    expect(trustRefusalCounts(alice.db)).toMatchObject({
      'move.misaddressed': 1,
      'move.bad-signature': 1,
    });
    expect(getContact(alice.db, carol.account.accountId)).toMatchObject({ trust: 'trusted' });
    expect(getContact(alice.db, oldBob.accountId)).toMatchObject({ trust: 'trusted' });
    expect(count(alice, 'SELECT count(*) FROM messages')).toBe(1);
  });
});

describe('announcing the move to the home relay', () => {
  it('sends each kept notice once; an unreachable relay keeps it; a refusal or a damaged row is not retried forever', async () => {
    const { profile: bob } = await newProfile('Bob');
    const old = bob.account;
    await resetIdentity(bob, HOME);
    const relay = new FileHomeRelay(join(tempDir(), 'relay.json'));
    const move = relay.moveAccount.bind(relay);
    relay.moveAccount = () => Promise.reject(new SottoError('RELAY_UNAVAILABLE'));
    expect(await rejectedCode(() => announcePendingMove(bob, relay))).toBe('RELAY_UNAVAILABLE');
    expect(count(bob, 'SELECT count(*) FROM own_moves WHERE announced_at IS NULL')).toBe(1);

    relay.moveAccount = move;
    expect(await announcePendingMove(bob, relay)).toBe(1);
    expect(relay.moves).toMatchObject([{ from: old.accountId, to: bob.account.accountId }]);
    expect(await announcePendingMove(bob, relay)).toBe(0);
    expect(relay.moves).toHaveLength(1);

    await resetIdentity(bob, HOME); // a second reset: its notice is signed by the key of the first
    bob.db.prepare("UPDATE own_moves SET notice = '{not json' WHERE announced_at IS NULL").run();
    await resetIdentity(bob, HOME);
    relay.moveAccount = () =>
      Promise.reject(new SottoError('RELAY_REFUSED', 'RELAY_ERR_FORBIDDEN'));
    expect(await announcePendingMove(bob, relay)).toBe(0);
    expect(count(bob, 'SELECT count(*) FROM own_moves WHERE announced_at IS NULL')).toBe(0);
    expect(relay.moves).toHaveLength(1);
  });

  it('an oversized moved content fails validation and is never applied', async () => {
    const { alice, bob, oldBob } = await bobResets();
    await flushOutbox(bob);
    const notice = signMoveNotice(oldBob, bob.account.identity, Date.now());
    const huge = { ...movedContent(notice), relay: `ws://${'x'.repeat(2000)}` } as Content;
    bob.db
      .prepare(
        "INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at) VALUES ('receipt', ?, ?, 1, ?, 0)",
      )
      .run([randomUUID(), alice.account.accountId, padded(JSON.stringify(huge))]);
    const outcomes = await processEnvelopes(alice, await flushOutbox(bob));
    expect(outcomes).toMatchObject([{ outcome: 'retry', error: 'BAD_CONTENT' }]);
    expect(count(alice, 'SELECT count(*) FROM identity_moves')).toBe(0);
    expect(getContact(alice.db, oldBob.accountId).trust).toBe('trusted');
  });
});

/** JSON padded as contents are, without the schema check encodeContent makes (a hostile sender skips it). */
function padded(json: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(json);
  const out = new Uint8Array(Math.ceil((bytes.length + 1) / 160) * 160);
  out.set(bytes);
  out[bytes.length] = 0x80;
  return out;
}

describe('a contact that resets twice before the user accepted', () => {
  it('the second notice (signed by the first new key) moves the pending move on; accepting lands on the latest account', async () => {
    const { alice, bob, oldBob } = await bobResets();
    await processEnvelopes(alice, await flushOutbox(bob));
    const firstNew = bob.account.accountId;
    await resetIdentity(bob, HOME);
    await startSession(
      bob,
      takeBundle(publishedKeys(alice.db, alice.account), 7),
      alice.account.accountId,
    );
    await processEnvelopes(alice, await flushOutbox(bob));
    expect(alice.db.prepare('SELECT from_account, to_account FROM identity_moves').all()).toEqual([
      { from_account: oldBob.accountId, to_account: bob.account.accountId },
    ]);
    expect(firstNew).not.toBe(bob.account.accountId);
    expect(acceptIdentityChange(alice, oldBob.accountId)).toBe(bob.account.accountId);
    queueText(alice, bob.account.accountId, 'found you');
    expect((await processEnvelopes(bob, await flushOutbox(alice))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
  });
});
