import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getSetting } from '../../../electron/core/profile/settings.ts';
import { homeRelaySetting, setHomeRelay } from '../../../electron/core/sync/home-relay-setting.ts';
import {
  assertInviteRelayAllowed,
  checkOwnRelayAddress,
  normalizeRelayAddress,
} from '../../../electron/core/sync/relay-address.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// Which relay addresses a profile may use (docs/relay-protocol.md#relay-addresses),
// checked before any socket or path is touched.

const RELAY_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('own relay address', () => {
  it('accepts wss, loopback ws and absolute folders; refuses remote ws without consent, allows it with', () => {
    expect(checkOwnRelayAddress('wss://relay.example.org/', false)).toBe('wss://relay.example.org');
    expect(checkOwnRelayAddress('ws://127.0.0.1:8787/v2', false)).toBe('ws://127.0.0.1:8787');
    expect(checkOwnRelayAddress('ws://[::1]:8787', false)).toBe('ws://[::1]:8787');
    expect(checkOwnRelayAddress('ws://LOCALHOST:8787', false)).toBe('ws://localhost:8787');
    expect(checkOwnRelayAddress('/srv/relay/', false)).toBe('/srv/relay');
    expect(() => checkOwnRelayAddress('ws://relay.example.org:8787', false)).toThrow(
      expect.objectContaining({ code: 'INSECURE_RELAY' }),
    );
    expect(() => checkOwnRelayAddress('ws://192.168.1.5:8787', false)).toThrow(
      expect.objectContaining({ code: 'INSECURE_RELAY' }),
    );
    expect(checkOwnRelayAddress('ws://192.168.1.5:8787', true)).toBe('ws://192.168.1.5:8787');
  });

  it('refuses what is not a relay address at all, consent or not', () => {
    for (const bad of [
      '\\\\server\\share',
      '//server/share',
      'relative/dir',
      'http://relay.example.org',
      'wss://user:pw@relay.example.org',
      'wss://relay.example.org/?x=1',
      '',
      'C:relative',
    ]) {
      expect(() => checkOwnRelayAddress(bad, true), bad).toThrow(
        expect.objectContaining({ code: 'RELAY_ADDRESS_REFUSED' }),
      );
    }
  });

  it('stores the consent with the address, and a stored insecure address without consent is refused when used', async () => {
    const { profile } = await newProfile('Alice');
    setHomeRelay(profile, 'ws://192.168.1.5:8787', { allowInsecure: true });
    expect(homeRelaySetting(profile)).toMatchObject({
      address: 'ws://192.168.1.5:8787',
      allowInsecure: true,
    });
    profile.commit(undefined, (db) =>
      db.prepare("UPDATE settings SET value = 'false' WHERE key = 'relay.allowInsecure'").run(),
    );
    const pool = new RelayPool(profile);
    expect(() => pool.home).toThrow(expect.objectContaining({ code: 'INSECURE_RELAY' }));
    await pool.close();
  });

  it('a relay change drops the pinned relay id (the next connection pins the new one)', async () => {
    const { profile } = await newProfile('Alice');
    setHomeRelay(profile, 'ws://127.0.0.1:8787');
    profile.commit(undefined, (db) =>
      db.prepare("INSERT INTO settings (key, value) VALUES ('relay.id', ?)").run([RELAY_ID]),
    );
    setHomeRelay(profile, 'ws://127.0.0.1:8787/'); // the same relay, written differently
    expect(getSetting(profile.db, 'relay.id')).toBe(RELAY_ID);
    setHomeRelay(profile, 'ws://127.0.0.1:9999');
    expect(getSetting(profile.db, 'relay.id')).toBeUndefined();
  });
});

describe('relay addresses in invites', () => {
  it('accepts wss and loopback ws', async () => {
    const { profile } = await newProfile('Alice');
    setHomeRelay(profile, join(tempDir(), 'relay'));
    expect(assertInviteRelayAllowed(profile, 'wss://relay.example.org')).toBe(
      'wss://relay.example.org',
    );
    expect(assertInviteRelayAllowed(profile, 'ws://127.0.0.1:8787/v2/')).toBe(
      'ws://127.0.0.1:8787',
    );
  });

  it('refuses network paths, folders the user did not choose, and ws:// to another host', async () => {
    const { profile } = await newProfile('Alice');
    const own = join(tempDir(), 'relay');
    setHomeRelay(profile, own);
    const chosenElsewhere = join(tempDir(), 'other-relay');
    for (const bad of [
      '\\\\attacker.example\\share',
      '//attacker.example/share',
      '\\\\?\\UNC\\attacker.example\\share',
      chosenElsewhere,
      `${own}/../other-relay`,
      '/etc',
      'ws://relay.example.org:8787',
      'ws://10.0.0.1:8787',
    ]) {
      expect(() => assertInviteRelayAllowed(profile, bad), bad).toThrow(
        expect.objectContaining({ code: 'RELAY_ADDRESS_REFUSED' }),
      );
    }
    expect(existsSync(chosenElsewhere)).toBe(false);
  });

  it('accepts the user’s own folder, however the invite writes it', async () => {
    const { profile } = await newProfile('Alice');
    const own = join(tempDir(), 'relay');
    setHomeRelay(profile, own);
    expect(assertInviteRelayAllowed(profile, `${own}/`)).toBe(own);
    expect(assertInviteRelayAllowed(profile, `${own}/./sub/..`)).toBe(own);
  });

  it('accepts a remote ws:// relay only when it is the user’s own, consented relay', async () => {
    const { profile } = await newProfile('Alice');
    setHomeRelay(profile, 'ws://192.168.1.5:8787', { allowInsecure: true });
    expect(assertInviteRelayAllowed(profile, 'ws://192.168.1.5:8787/')).toBe(
      'ws://192.168.1.5:8787',
    );
    expect(() => assertInviteRelayAllowed(profile, 'ws://192.168.1.6:8787')).toThrow(
      expect.objectContaining({ code: 'RELAY_ADDRESS_REFUSED' }),
    );
  });

  it('the pool refuses a refused address before touching it: no folder is created, nothing is read', async () => {
    const { profile } = await newProfile('Alice');
    setHomeRelay(profile, join(tempDir(), 'relay'));
    const pool = new RelayPool(profile);
    const elsewhere = join(tempDir(), 'not-chosen');
    expect(() => pool.get(elsewhere, RELAY_ID)).toThrow(
      expect.objectContaining({ code: 'RELAY_ADDRESS_REFUSED' }),
    );
    expect(() => pool.get('//attacker.example/share', RELAY_ID)).toThrow(
      expect.objectContaining({ code: 'RELAY_ADDRESS_REFUSED' }),
    );
    expect(existsSync(elsewhere)).toBe(false);
    await pool.close();
  });

  it('normalizes Windows folder paths without touching them', () => {
    expect(normalizeRelayAddress('C:\\Relays\\Shared\\')).toBe('C:\\Relays\\Shared');
    expect(normalizeRelayAddress('c:/Relays/./Shared')).toBe('c:\\Relays\\Shared');
  });
});
