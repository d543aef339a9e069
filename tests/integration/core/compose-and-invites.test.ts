import { describe, expect, it } from 'vitest';
import {
  addContactFromInvite,
  getContact,
  ownDeliveryToken,
  processEnvelopes,
  queueText,
  type Profile,
} from '../../../electron/core/index.ts';
import { setSetting } from '../../../electron/core/profile/settings.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { MAX_CONTENT_BYTES } from '../../../shared/protocol/content.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { formatInvite } from '../../../shared/protocol/invite.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { thrownCode } from '../../support/errors.ts';
import {
  flushOutbox,
  introduce,
  inviteOf,
  newProfile,
  TEST_RELAY_ID,
} from '../../support/profiles.ts';

function count(profile: Profile, table: string): number {
  return Number(profile.db.prepare(`SELECT count(*) FROM ${table}`, { pluck: true }).get());
}

describe('one size rule, in bytes, at compose time', () => {
  it('refuses text whose encoded content exceeds MAX_CONTENT_BYTES with MESSAGE_TOO_LONG and stores nothing', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    for (const body of ['x'.repeat(70_000), '北'.repeat(30_001), '😀'.repeat(23_000)]) {
      expect(thrownCode(() => queueText(alice, bob.account.accountId, body))).toBe(
        'MESSAGE_TOO_LONG',
      );
    }
    expect(count(alice, 'messages')).toBe(0);
    expect(count(alice, 'outbox')).toBe(0);
    // Just under the limit (CJK is 3 bytes per character) is fine, and it fits a relay envelope when sealed.
    const id = queueText(alice, bob.account.accountId, '北'.repeat(29_000)).id;
    expect(id).toBeGreaterThan(0);
    const payload = alice.db.prepare('SELECT length(payload) FROM outbox', { pluck: true }).get();
    expect(Number(payload)).toBeLessThanOrEqual(MAX_CONTENT_BYTES);
  });
});

describe('the largest message the rule allows', () => {
  it('still fits one relay envelope once sealed, and is delivered', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    // The longest CJK text the byte rule accepts (3 bytes per character).
    let length = Math.floor(MAX_CONTENT_BYTES / 3);
    while (
      thrownCode(() => queueText(alice, bob.account.accountId, '北'.repeat(length))) ===
      'MESSAGE_TOO_LONG'
    )
      length -= 8;
    expect(length).toBeGreaterThan(29_000);
    const [envelope] = await flushOutbox(alice);
    expect(envelope!.body.length).toBeLessThanOrEqual(RELAY_LIMITS.maxEnvelopeBytes);
    expect((await processEnvelopes(bob, [envelope!])).map((o) => o.outcome)).toEqual(['stored']);
  });
});

describe('invites', () => {
  function formatInviteOf(profile: Profile, relay: string): string {
    return formatInvite({
      relay,
      relayId: TEST_RELAY_ID,
      accountId: profile.account.accountId,
      identityKey: toBase64(profile.account.identity.publicKey.serialize()),
      token: toBase64(ownDeliveryToken(profile)),
      name: profile.account.displayName,
    });
  }

  it("an invite v2 stores the relay, its id and the contact's token", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const contact = addContactFromInvite(alice, inviteOf(bob));
    expect(contact).toMatchObject({
      accountId: bob.account.accountId,
      displayName: 'Bob',
      relay: 'wss://relay.example.org',
      blocked: false,
    });
    const row = alice.db
      .prepare('SELECT relay_id, delivery_token FROM contacts')
      .get<{ relay_id: string; delivery_token: Uint8Array<ArrayBuffer> }>();
    expect(row?.relay_id).toBe(TEST_RELAY_ID);
    expect(Buffer.from(row!.delivery_token)).toEqual(Buffer.from(ownDeliveryToken(bob)));
  });

  it('profileInvite carries the pinned relay id and the current token, and round-trips', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    expect(thrownCode(() => profileInvite(bob))).toBe('NOT_CONFIGURED');
    bob.commit(undefined, (db) => {
      setSetting(db, 'relay', 'ws://127.0.0.1:9');
      setSetting(db, 'relay.id', TEST_RELAY_ID);
    });
    const contact = addContactFromInvite(alice, profileInvite(bob), 'Robert');
    expect(contact).toMatchObject({ displayName: 'Robert', relay: 'ws://127.0.0.1:9' });
  });

  it('refuses outdated, malformed, forged and badly addressed invites before storing anything', async () => {
    const { profile: reopened } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    const v1 = `sotto://invite/1#${Buffer.from(JSON.stringify({ relay: 'ws://127.0.0.1:1' })).toString('base64url')}`;
    expect(thrownCode(() => addContactFromInvite(reopened, v1))).toBe('INVITE_OUTDATED');
    expect(thrownCode(() => addContactFromInvite(reopened, 'sotto://invite/2#not-json'))).toBe(
      'INVALID_INVITE',
    );
    expect(thrownCode(() => addContactFromInvite(reopened, 'hello'))).toBe('INVALID_INVITE');
    const forged = inviteOf(bob, {
      identityKey: toBase64(mallory.account.identity.publicKey.serialize()),
    });
    expect(thrownCode(() => addContactFromInvite(reopened, forged))).toBe('IDENTITY_MISMATCH');
    for (const relay of [
      '\\\\evil\\share',
      '//evil/share',
      '/tmp/not-my-folder',
      'ws://203.0.113.5:8787',
    ]) {
      expect(thrownCode(() => addContactFromInvite(reopened, formatInviteOf(bob, relay)))).toBe(
        'RELAY_ADDRESS_REFUSED',
      );
    }
    expect(thrownCode(() => getContact(reopened.db, bob.account.accountId))).toBe(
      'UNKNOWN_CONTACT',
    );
    for (const table of ['contacts', 'identities', 'conversations'])
      expect(count(reopened, table)).toBe(0);
  });
});
