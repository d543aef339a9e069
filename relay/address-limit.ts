import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

// Who a socket is, for budgets and the per-address connection cap: the peer
// address, or behind a trusted local reverse proxy, the address the proxy
// appended to X-Forwarded-For. The address is a budget key only: never
// stored, never logged.

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The client address of a request. With `trustProxy` and a loopback peer, the
 * rightmost X-Forwarded-For entry (the one the proxy itself appended: entries
 * to its left come from the client and prove nothing); otherwise the peer.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  const peer = request.socket.remoteAddress ?? 'unknown';
  if (!trustProxy || !isLoopback(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  const last = value?.split(',').pop()?.trim();
  return last !== undefined && isIP(last) !== 0 ? last : peer;
}

/** Open sockets per address, capped. */
export class AddressLimit {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts one more socket for `address`; false (nothing counted) at the cap. */
  tryAdd(address: string): boolean {
    const count = this.open.get(address) ?? 0;
    if (count >= this.max) return false;
    this.open.set(address, count + 1);
    return true;
  }

  /** Forgets one socket of `address`. */
  remove(address: string): void {
    const count = (this.open.get(address) ?? 1) - 1;
    if (count <= 0) this.open.delete(address);
    else this.open.set(address, count);
  }
}
