import { resolve } from 'node:path';
import type { Profile } from '../profile/profile.ts';
import { FolderRelay } from './folder-relay.ts';
import type { Relay } from './relay.ts';
import { WebSocketRelay, type WebSocketRelayOptions } from './ws-relay.ts';

/** True if `address` names a WebSocket relay (otherwise it is a folder path). */
export function isWebSocketAddress(address: string): boolean {
  return /^wss?:\/\//i.test(address);
}

/** Normalizes a relay address as stored in settings and invites. */
export function normalizeRelayAddress(address: string): string {
  return isWebSocketAddress(address) ? address.replace(/\/+$/, '') : resolve(address);
}

/**
 * One Relay client per address, acting as this profile's device. A profile
 * receives on its own relay and delivers to each contact's relay.
 */
export class RelayPool {
  private readonly relays = new Map<string, Relay>();

  constructor(
    private readonly profile: Profile,
    private readonly options: WebSocketRelayOptions = {},
  ) {}

  /** The client for `address`, created on first use. */
  get(address: string): Relay {
    const key = normalizeRelayAddress(address);
    let relay = this.relays.get(key);
    if (!relay) {
      relay = isWebSocketAddress(key) ? new WebSocketRelay(key, this.identity(), this.options) : new FolderRelay(key, this.self());
      this.relays.set(key, relay);
    }
    return relay;
  }

  /** Closes every client. */
  async close(): Promise<void> {
    await Promise.all([...this.relays.values()].map((r) => r.close()));
    this.relays.clear();
  }

  private self() {
    return { accountId: this.profile.account.accountId, deviceId: this.profile.account.deviceId };
  }

  private identity() {
    const profile = this.profile;
    return {
      ...this.self(),
      identityKey: profile.account.identity.publicKey.serialize(),
      sign: (message: Uint8Array<ArrayBuffer>) => profile.account.identity.privateKey.sign(message),
    };
  }
}
