/**
 * True for a relay the core accepts: a ws:// or wss:// URL with a host, or a
 * folder path (absolute, home-relative, or a Windows drive/UNC path).
 */
export function isRelayAddress(value: string): boolean {
  const text = value.trim();
  if (text === '') return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
    } catch {
      return false;
    }
  }
  return /^(\/|~[/\\]?|[a-zA-Z]:[/\\]|\\\\)/.test(text) || /^\.{1,2}[/\\]/.test(text);
}
