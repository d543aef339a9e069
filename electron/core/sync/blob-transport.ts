import type { RelayId } from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobDownloads, BlobUploads } from './blobs.ts';
import { FolderBlobs } from './folder-blobs.ts';
import { homeRelayId, homeRelaySetting } from './home-relay-setting.ts';
import { assertInviteRelayAllowed, isWebSocketAddress } from './relay-address.ts';

// The one place that chooses the blob transport for a relay address: files
// on a folder relay; the WebSocket relay's tus-over-HTTP client plugs in here.

/** Uploads to this profile's home relay (NOT_CONFIGURED when it has none). */
export function homeBlobUploads(profile: Profile): BlobUploads {
  const { address } = homeRelaySetting(profile);
  if (isWebSocketAddress(address)) return webSocketBlobs();
  return new FolderBlobs(address, { expected: () => homeRelayId(profile) });
}

/**
 * Downloads from the relay at `address` (a contact record's relay, checked
 * against the same address rules as any relay a contact names) pinned to `relayId`.
 */
export function blobDownloads(
  profile: Profile,
  address: string,
  relayId: RelayId | null,
): BlobDownloads {
  const normalized = assertInviteRelayAllowed(profile, address);
  if (isWebSocketAddress(normalized)) return webSocketBlobs();
  return new FolderBlobs(normalized, { expected: () => relayId ?? undefined });
}

function webSocketBlobs(): never {
  // Until the ws-blobs client lands (another branch): a transfer waits, like a relay that is down.
  throw new SottoError('RELAY_UNAVAILABLE', 'blob transfer over WebSocket not built');
}
