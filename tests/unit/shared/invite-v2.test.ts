import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { formatInvite, type Invite, parseInvite } from '../../../shared/protocol/invite.ts';

// A real libsignal identity key serializes to 33 bytes: 44 base64 characters without padding.
const identityKey = toBase64(Uint8Array.from({ length: 33 }, (_, i) => (i === 0 ? 5 : i)));
const token = toBase64(new Uint8Array(16).fill(9));

const invite: Invite = {
  relay: 'wss://relay.example.org',
  relayId: 'AbCdEfGhIjKlMnOpQrStUv',
  accountId: '8ef1ff1e-61ee-aef8-5c85-708db4331784' as Invite['accountId'],
  identityKey,
  token,
  name: 'Alice',
};

describe('invite v2 text', () => {
  it('round-trips with a 33-byte identity key', () => {
    expect(identityKey).toHaveLength(44);
    const text = formatInvite(invite);
    expect(text.startsWith('sotto://invite/2#')).toBe(true);
    expect(parseInvite(text)).toEqual({ ok: true, invite });
  });

  it('says "outdated" for protocol-1 invites and "invalid" for anything malformed', () => {
    expect(parseInvite('sotto://invite/1#eyJyZWxheSI6IngifQ')).toEqual({
      ok: false,
      reason: 'outdated',
    });
    const body = (value: object) =>
      `sotto://invite/2#${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
    for (const bad of [
      body({ ...invite, extra: 1 }),
      body({ ...invite, identityKey: `${identityKey.slice(0, 43)}=` }),
      body({ ...invite, token: toBase64(new Uint8Array(15)) }),
      body({ ...invite, accountId: invite.accountId.toUpperCase() }),
      body({ ...invite, name: '' }),
      'sotto://invite/2#%%%',
      `sotto://invite/2#${'A'.repeat(5000)}`,
    ]) {
      expect(parseInvite(bad)).toEqual({ ok: false, reason: 'invalid' });
    }
  });
});

describe('token content and the text token', () => {
  it('round-trip; a token of the wrong size is refused', () => {
    const update = { v: 1, type: 'token', token, sentAt: 5 } as const;
    expect(decodeContent(encodeContent(update))).toEqual(update);
    const text = {
      v: 1,
      type: 'text',
      id: '7f9c2ba4-e88f-4e0a-9c6b-0b6f3f0c2a11',
      sentAt: 1,
      body: 'hi',
      token,
    } as const;
    expect(decodeContent(encodeContent(text))).toEqual(text);
    expect(() => encodeContent({ ...update, token: toBase64(new Uint8Array(17)) })).toThrow();
  });
});
