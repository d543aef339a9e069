// Whether the connection is metered, as Chromium tells the page: the
// Network Information API's `saveData` (the user's or the OS's data saver).
// Without the API the answer is 'unknown', which the core treats as not metered.
import type { NetworkState } from './stores/attachments.ts';

/** The part of Chromium's NetworkInformation the app reads (not in TypeScript's DOM types). */
interface NetworkInformationLike extends EventTarget {
  readonly saveData?: boolean;
}

function connection(): NetworkInformationLike | undefined {
  return (navigator as Navigator & { connection?: NetworkInformationLike }).connection;
}

/** The connection now. */
export function networkState(): NetworkState {
  const info = connection();
  if (info?.saveData === undefined) return 'unknown';
  return info.saveData ? 'metered' : 'unmetered';
}

/** Calls `changed` whenever the connection changes; returns the function that stops. */
export function onNetworkChange(changed: (state: NetworkState) => void): () => void {
  const info = connection();
  if (!info) return () => undefined;
  const listener = () => changed(networkState());
  info.addEventListener('change', listener);
  return () => info.removeEventListener('change', listener);
}
