import type { RelayId } from '../../../shared/relay/protocol.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobDownloads } from './blobs.ts';
import { FolderBlobs } from './folder-blobs.ts';
import { assertInviteRelayAllowed, isWebSocketAddress } from './relay-address.ts';
import { HttpBlobDownloads } from './ws-blobs.ts';

// Chooses the download transport for a relay address: files on a folder
// relay, HTTP GET on a WebSocket relay. Uploads go to the home relay only,
// through the relay pool (RelayPool.homeBlobs), which holds its login.

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
  // Over HTTP the relay id is not checked: the pointer's digest and MAC authenticate the bytes.
  if (isWebSocketAddress(normalized)) return new HttpBlobDownloads(normalized);
  return new FolderBlobs(normalized, { expected: () => relayId ?? undefined });
}
