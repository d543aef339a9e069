import { randomBytes } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { applyUpdate } from '../../../electron/core/groups/apply-update.ts';
import { NO_PARENT, signUpdate, updateHash } from '../../../electron/core/groups/group-signing.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type GroupAction,
  type GroupMember,
  type GroupSnapshot,
  groupUpdateBytes,
  groupUpdateSchema,
  MAX_GROUP_MEMBERS,
  type SignedGroupUpdate,
} from '../../../shared/protocol/group.ts';

// The membership rules as a pure function: what every member's device
// computes from the same updates, so the same inputs must give the same
// state whatever order concurrent updates arrive in.

function account(name: string, admin = false) {
  const keys = IdentityKeyPair.generate();
  const card: GroupMember = {
    accountId: deriveAccountId(keys.publicKey),
    identityKey: toBase64(keys.publicKey.serialize()),
    name,
    relay: 'wss://relay.test.invalid',
    relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
    token: toBase64(randomBytes(16)),
    admin,
  };
  return { keys, card };
}

const alice = account('Alice', true);
const bob = account('Bob');
const carol = account('Carol');
const groupId = toBase64(randomBytes(32));

function created(): { signed: SignedGroupUpdate; state: GroupSnapshot } {
  const signed = signUpdate(
    {
      groupId,
      revision: 0,
      parent: NO_PARENT,
      author: alice.card.accountId,
      action: { kind: 'create', title: 'T', members: [alice.card, bob.card, carol.card] },
      signedAt: 1,
    },
    alice.keys.privateKey,
  );
  const result = applyUpdate(undefined, undefined, signed, alice.card.accountId);
  if (!result.ok) throw new Error(result.reason);
  return { signed, state: result.state };
}

function on(state: GroupSnapshot, who: ReturnType<typeof account>, action: GroupAction) {
  return signUpdate(
    {
      groupId,
      revision: state.revision + 1,
      parent: state.head,
      author: who.card.accountId,
      action,
      signedAt: 2,
    },
    who.keys.privateKey,
  );
}

function apply(state: GroupSnapshot, prev: GroupSnapshot | undefined, signed: SignedGroupUpdate) {
  return applyUpdate(state, prev, signed, signed.update.author);
}

describe('group update rules', () => {
  it('create: the author must be an admin member; its state has revision 0 and the update hash as head', () => {
    const { signed, state } = created();
    expect(state).toMatchObject({ revision: 0, title: 'T', head: updateHash(signed) });
    const noAdmin = signUpdate(
      {
        ...signed.update,
        action: { kind: 'create', title: 'T', members: [{ ...alice.card, admin: false }] },
      },
      alice.keys.privateKey,
    );
    expect(applyUpdate(undefined, undefined, noAdmin, alice.card.accountId)).toEqual({
      ok: false,
      reason: 'NOT_ADMIN',
    });
  });

  it('a card whose key does not derive its account id is INVALID (a new key is a new account)', () => {
    const { state } = created();
    const impostor = { ...account('Dave').card, identityKey: bob.card.identityKey };
    expect(apply(state, undefined, on(state, alice, { kind: 'add', member: impostor }))).toEqual({
      ok: false,
      reason: 'INVALID',
    });
  });

  it('a non-admin may only leave, and only itself', () => {
    const { state } = created();
    expect(
      apply(state, undefined, on(state, bob, { kind: 'remove', accountId: carol.card.accountId })),
    ).toEqual({
      ok: false,
      reason: 'NOT_ADMIN',
    });
    const left = apply(state, undefined, on(state, bob, { kind: 'leave' }));
    expect(left.ok && left.state.members.map((m) => m.name)).toEqual(['Alice', 'Carol']);
  });

  it('a removed member can no longer sign anything the group accepts', () => {
    const { state } = created();
    const removed = apply(
      state,
      undefined,
      on(state, alice, { kind: 'remove', accountId: bob.card.accountId }),
    );
    if (!removed.ok) throw new Error(removed.reason);
    expect(apply(removed.state, state, on(removed.state, bob, { kind: 'leave' }))).toEqual({
      ok: false,
      reason: 'NOT_ADMIN',
    });
  });

  it('a tampered update (signature over other bytes) is BAD_SIGNATURE', () => {
    const { state } = created();
    const signed = on(state, alice, { kind: 'rename', title: 'Good' });
    const tampered = {
      ...signed,
      update: { ...signed.update, action: { kind: 'rename' as const, title: 'Evil' } },
    };
    expect(apply(state, undefined, tampered)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('concurrent admin updates converge on the lower hash in either arrival order', () => {
    const { state } = created();
    const promoted = apply(
      state,
      undefined,
      on(state, alice, { kind: 'admin', accountId: bob.card.accountId }),
    );
    if (!promoted.ok) throw new Error(promoted.reason);
    const base = promoted.state;
    const a = on(base, alice, { kind: 'rename', title: 'A' });
    const b = on(
      base,
      { ...bob, card: { ...bob.card, admin: true } },
      { kind: 'remove', accountId: carol.card.accountId },
    );
    const finalOf = (first: SignedGroupUpdate, second: SignedGroupUpdate) => {
      const one = apply(base, state, first);
      if (!one.ok) throw new Error(one.reason);
      const two = apply(one.state, base, second);
      return two.ok ? two.state : one.state;
    };
    const ab = finalOf(a, b);
    const ba = finalOf(b, a);
    expect(ab).toEqual(ba);
    expect(ab.head).toBe([updateHash(a), updateHash(b)].sort()[0]);
  });

  it('a replay is STALE, a skipped revision or a wrong parent is a GAP', () => {
    const { signed, state } = created();
    const rename = on(state, alice, { kind: 'rename', title: 'X' });
    const renamed = apply(state, undefined, rename);
    if (!renamed.ok) throw new Error(renamed.reason);
    expect(apply(renamed.state, state, rename)).toEqual({ ok: false, reason: 'STALE' });
    expect(applyUpdate(renamed.state, state, signed, alice.card.accountId)).toEqual({
      ok: false,
      reason: 'INVALID',
    });
    const skip = signUpdate(
      { ...on(renamed.state, alice, { kind: 'rename', title: 'Y' }).update, revision: 5 },
      alice.keys.privateKey,
    );
    expect(apply(renamed.state, state, skip)).toEqual({ ok: false, reason: 'GAP' });
    const wrongParent = signUpdate(
      { ...on(renamed.state, alice, { kind: 'rename', title: 'Y' }).update, parent: NO_PARENT },
      alice.keys.privateKey,
    );
    expect(apply(renamed.state, state, wrongParent)).toEqual({ ok: false, reason: 'GAP' });
  });

  it('the signed bytes are domain-separated and independent of key order in the input', () => {
    const { signed } = created();
    const reordered = Object.fromEntries(Object.entries(signed.update).reverse()) as unknown;
    expect(Buffer.from(groupUpdateBytes(groupUpdateSchema.parse(reordered)))).toEqual(
      Buffer.from(groupUpdateBytes(signed.update)),
    );
    expect(new TextDecoder().decode(groupUpdateBytes(signed.update))).toMatch(
      /^sotto\/group-update\/v1\0\{"groupId"/,
    );
  });

  it('schemas refuse more than 1,000 members and malformed ids', () => {
    const { signed } = created();
    const many = Array.from({ length: MAX_GROUP_MEMBERS + 1 }, () => alice.card);
    expect(
      groupUpdateSchema.safeParse({
        ...signed.update,
        action: { kind: 'create', title: 'T', members: many },
      }).success,
    ).toBe(false);
    expect(groupUpdateSchema.safeParse({ ...signed.update, groupId: 'short' }).success).toBe(false);
  });
});
