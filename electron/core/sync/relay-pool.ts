import type { RelayId } from '../../../shared/relay/protocol.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobUploads } from './blobs.ts';
import { FolderBlobs } from './folder-blobs.ts';
import { FolderHomeRelay } from './folder-home-relay.ts';
import { FolderRelay } from './folder-relay.ts';
import { homeRelayId, homeRelaySetting, pinHomeRelayId } from './home-relay-setting.ts';
import { assertInviteRelayAllowed, isWebSocketAddress, sameAddress } from './relay-address.ts';
import type { HomeRelay, Relay, RelayIdentity } from './relay.ts';
import type { RelayIdPin } from './ws-connection.ts';
import { WebSocketBlobUploads } from './ws-blobs.ts';
import { WebSocketHomeRelay } from './ws-home-relay.ts';
import { WebSocketRelay, type WebSocketRelayOptions } from './ws-relay.ts';

/**
 * The relays one profile talks to. `home` is its own relay, the only place
 * its identity key signs anything for a relay (and only after the relay
 * showed the pinned relay id). `get` is any relay, the home relay included,
 * used anonymously for bundles and sealed sends. Every address is checked
 * against the address rules before a client for it exists, so no socket is
 * opened and no path touched for an address that is not allowed.
 */
export class RelayPool {
  private homeRelay: HomeRelay | undefined;
  private readonly relays = new Map<string, Relay>();

  constructor(
    private readonly profile: Profile,
    private readonly options: WebSocketRelayOptions = {},
  ) {}

  /** This device's own relay (NOT_CONFIGURED, INSECURE_RELAY or RELAY_ADDRESS_REFUSED when the setting does not allow one). */
  get home(): HomeRelay {
    if (!this.homeRelay) {
      const { address } = homeRelaySetting(this.profile);
      this.homeRelay = isWebSocketAddress(address)
        ? new WebSocketHomeRelay(address, this.identity(), this.homePin(), this.options)
        : new FolderHomeRelay(
            address,
            { accountId: this.profile.account.accountId, deviceId: this.profile.account.deviceId },
            this.homePin(),
          );
    }
    return this.homeRelay;
  }

  /**
   * Attachment uploads to this device's own relay: reserved with blob.create
   * on its login and sent by tus over HTTP (WebSocket relay), or files (folder relay).
   */
  homeBlobs(): BlobUploads {
    const home = this.home;
    return home instanceof WebSocketHomeRelay
      ? new WebSocketBlobUploads(home.address, (length) => home.createBlob(length))
      : new FolderBlobs(home.address, this.homePin());
  }

  /**
   * An anonymous client for the relay at `address` whose id a contact's invite
   * pinned (`relayId`; null for a contact known from before relay ids, then
   * only the address is checked). RELAY_ADDRESS_REFUSED for an address an
   * invite may not name. The home relay serves its own anonymous side.
   */
  get(address: string, relayId: RelayId | null): Relay {
    const normalized = assertInviteRelayAllowed(this.profile, address);
    const home = this.homeIfSame(normalized, relayId);
    if (home) return home;
    const key = `${normalized}\n${relayId ?? ''}`;
    let relay = this.relays.get(key);
    if (!relay) {
      const pin: RelayIdPin = { expected: () => relayId ?? undefined };
      relay = isWebSocketAddress(normalized)
        ? new WebSocketRelay(normalized, pin, this.options)
        : new FolderRelay(normalized, pin);
      this.relays.set(key, relay);
    }
    return relay;
  }

  /** Closes every client. */
  async close(): Promise<void> {
    const all = [...this.relays.values(), ...(this.homeRelay ? [this.homeRelay] : [])];
    this.relays.clear();
    this.homeRelay = undefined;
    await Promise.all(all.map((r) => r.close()));
  }

  private homeIfSame(address: string, relayId: RelayId | null): HomeRelay | undefined {
    let home: HomeRelay;
    try {
      home = this.home;
    } catch {
      return undefined; // no usable home relay: the contact's relay is used on its own
    }
    if (!sameAddress(home.address, address)) return undefined;
    const pinned = homeRelayId(this.profile);
    // Same address, another relay id than ours: a separate client, which refuses at the challenge.
    return relayId === null || pinned === relayId ? home : undefined;
  }

  private homePin(): RelayIdPin {
    return {
      expected: () => homeRelayId(this.profile),
      remember: (relayId) => pinHomeRelayId(this.profile, relayId),
    };
  }

  private identity(): RelayIdentity {
    const account = this.profile.account;
    return {
      accountId: account.accountId,
      deviceId: account.deviceId,
      identityKey: account.identity.publicKey.serialize(),
      sign: (message) => account.identity.privateKey.sign(message),
    };
  }
}
