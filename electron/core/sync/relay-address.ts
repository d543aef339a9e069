import { posix, win32 } from 'node:path';
import { classifyRelayAddress } from '../../../shared/relay/address.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting } from '../profile/settings.ts';

// Which relay addresses this device may use (docs/relay-protocol.md#relay-addresses).
// Every check here is pure string work: it runs before any socket is opened or
// any path is touched, so a crafted invite cannot make the client reach out
// (a network path on Windows would hand the user's credentials to its host).

const WS_VERSION_SUFFIX = /\/v[0-9]+$/;

/**
 * The canonical form of an allowed address: for WebSocket relays the URL
 * without trailing slashes or protocol path (`/v1`, `/v2`: the client adds its
 * own), host lowercased by URL parsing; for folders the normalized absolute
 * path without a trailing separator. RELAY_ADDRESS_REFUSED for anything
 * `classifyRelayAddress` calls invalid.
 */
export function normalizeRelayAddress(address: string): string {
  const kind = classifyRelayAddress(address);
  if (kind === 'invalid') throw new SottoError('RELAY_ADDRESS_REFUSED');
  if (kind === 'folder') return normalizeFolder(address);
  const url = new URL(address);
  const path = url.pathname.replace(/\/+$/, '').replace(WS_VERSION_SUFFIX, '').replace(/\/+$/, '');
  if (url.search || url.hash) throw new SottoError('RELAY_ADDRESS_REFUSED');
  return `${url.protocol}//${url.host}${path}`;
}

/** True if a (normalized or not) address names a WebSocket relay rather than a folder. */
export function isWebSocketAddress(address: string): boolean {
  return /^wss?:\/\//i.test(address);
}

/**
 * Checks an address the user chose for their own relay and returns its
 * canonical form: `wss`, loopback `ws` and folders are fine; `ws://` to
 * another host only with explicit consent (INSECURE_RELAY otherwise).
 */
export function checkOwnRelayAddress(address: string, allowInsecure: boolean): string {
  const normalized = normalizeRelayAddress(address);
  if (classifyRelayAddress(normalized) === 'ws-remote' && !allowInsecure)
    throw new SottoError('INSECURE_RELAY');
  return normalized;
}

/**
 * Checks a relay address an invite names and returns its canonical form
 * (what to store for the contact). Allowed: `wss://`, `ws://` to loopback,
 * and the user's own relay when it is a folder (a folder both people share)
 * or a `ws://` relay on another host the user consented to. Anything else
 * (a network path, a folder the user did not choose, `ws://` to another
 * host): RELAY_ADDRESS_REFUSED.
 */
export function assertInviteRelayAllowed(profile: Profile, address: string): string {
  const kind = classifyRelayAddress(address);
  if (kind === 'invalid') throw new SottoError('RELAY_ADDRESS_REFUSED');
  const normalized = normalizeRelayAddress(address);
  if (kind === 'wss' || kind === 'ws-loopback') return normalized;
  const own = ownRelayAddress(profile);
  if (own === undefined || !sameAddress(own, normalized))
    throw new SottoError('RELAY_ADDRESS_REFUSED');
  if (kind === 'ws-remote' && getSetting(profile.db, 'relay.allowInsecure') !== 'true') {
    throw new SottoError('RELAY_ADDRESS_REFUSED');
  }
  return own;
}

/** True if two addresses name the same relay (folders compared case-insensitively when they are Windows paths). */
export function sameAddress(a: string, b: string): boolean {
  const x = normalizeRelayAddress(a);
  const y = normalizeRelayAddress(b);
  if (isWindowsPath(x) || isWindowsPath(y)) return x.toLowerCase() === y.toLowerCase();
  return x === y;
}

function ownRelayAddress(profile: Profile): string | undefined {
  const stored = getSetting(profile.db, 'relay');
  if (stored === undefined) return undefined;
  try {
    return normalizeRelayAddress(stored);
  } catch {
    return undefined; // a stored address from an older version that is no longer allowed matches nothing
  }
}

function isWindowsPath(path: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(path);
}

function normalizeFolder(path: string): string {
  if (isWindowsPath(path)) {
    const normalized = win32.normalize(path);
    return normalized.length > 3 ? normalized.replace(/[\\/]+$/, '') : normalized;
  }
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}
