// What kind of place a relay address names, and so whether it may be used
// (docs/relay-protocol.md#relay-addresses). Pure string rules: no DNS, no
// filesystem. The core applies them to the user's own relay setting and to
// every relay an invite names.

/** The kinds of relay address. */
export type RelayAddressKind =
  /** `wss://host…`: TLS to any host. */
  | 'wss'
  /** `ws://` to 127.0.0.0/8, ::1 or localhost: plain text that never leaves the machine. */
  | 'ws-loopback'
  /** `ws://` to any other host: readable and alterable on the network (metadata, tokens). */
  | 'ws-remote'
  /** An absolute local folder path (a folder relay). */
  | 'folder'
  /** Anything else, including network paths (`\\server\share`, `//server/share`), which on Windows leak credentials. */
  | 'invalid';

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Classifies a relay address. */
export function classifyRelayAddress(address: string): RelayAddressKind {
  // Control characters (C0 and DEL) never belong in an address.
  if (
    address.length === 0 ||
    address.length > 1024 ||
    [...address].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')
  )
    return 'invalid';
  if (/^wss?:\/\//i.test(address)) {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return 'invalid';
    }
    if (url.username || url.password || url.hostname === '') return 'invalid';
    if (url.protocol === 'wss:') return 'wss';
    return isLoopbackHost(url.hostname) ? 'ws-loopback' : 'ws-remote';
  }
  // Network paths: \\server\share, //server/share, \\?\UNC\..., \\.\device.
  if (/^[\\/]{2}/.test(address)) return 'invalid';
  if (address.startsWith('/')) return 'folder';
  if (/^[A-Za-z]:[\\/]/.test(address)) return 'folder';
  return 'invalid';
}
