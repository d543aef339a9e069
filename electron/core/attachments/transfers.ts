import { SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { Profile } from '../profile/profile.ts';

// The transfers running now, per profile: each upload or download registers
// here so the user can cancel it (an AbortSignal the job checks between
// chunks) and so its progress reaches listeners (the service turns it into
// `attachments:progress` events). Events carry an attachment id and byte
// counts only: never a key, a path, a blob id or a name.

/** Least time between two progress events of one transfer (at most 4 a second). */
export const PROGRESS_INTERVAL_MS = 250;

/** One progress report. */
export interface TransferProgress {
  readonly attachmentId: number;
  readonly direction: 'upload' | 'download';
  readonly done: number;
  readonly total: number;
}

/** What a transfer's end was, for listeners that refresh the attachment. */
export interface TransferEnd {
  readonly attachmentId: number;
  readonly direction: 'upload' | 'download';
}

/** Listeners of a profile's transfers. */
export interface TransferListener {
  progress?(progress: TransferProgress): void;
  ended?(end: TransferEnd): void;
}

/** A running transfer as its job sees it. */
export interface Transfer {
  readonly signal: AbortSignal;
  /** Reports `done` bytes (throttled to PROGRESS_INTERVAL_MS unless `now`). */
  progress(done: number, now?: boolean): void;
  /** Throws CANCELLED once the user cancelled. */
  check(): void;
  /** Unregisters the transfer and tells listeners it ended (done, failed or cancelled). */
  end(): void;
}

class Registry {
  readonly running = new Map<number, AbortController>();
  /** Who waits for a running transfer to end (a delete must not run under a job that still writes). */
  readonly waiting = new Map<AbortController, (() => void)[]>();
  readonly listeners = new Set<TransferListener>();

  emit(call: (listener: TransferListener) => void): void {
    for (const listener of this.listeners) {
      // A listener's failure must not fail the transfer that reported to it.
      try {
        call(listener);
      } catch (error) {
        log.error('attachments.transfer_listener', error);
      }
    }
  }
}

const registries = new WeakMap<Profile, Registry>();

function registryOf(profile: Profile): Registry {
  let registry = registries.get(profile);
  if (!registry) {
    registry = new Registry();
    registries.set(profile, registry);
  }
  return registry;
}

/** Registers a transfer of `total` bytes starting at `done` bytes. */
export function startTransfer(
  profile: Profile,
  attachmentId: number,
  direction: 'upload' | 'download',
  total: number,
  done = 0,
): Transfer {
  const registry = registryOf(profile);
  const abort = new AbortController();
  registry.running.set(attachmentId, abort);
  let last = 0;
  const report = (bytes: number) => {
    last = Date.now();
    registry.emit((l) => l.progress?.({ attachmentId, direction, done: bytes, total }));
  };
  report(done);
  return {
    signal: abort.signal,
    progress(bytes, now = false) {
      if (now || Date.now() - last >= PROGRESS_INTERVAL_MS) report(bytes);
    },
    check() {
      if (abort.signal.aborted) throw new SottoError('CANCELLED', 'transfer cancelled');
    },
    end() {
      if (registry.running.get(attachmentId) === abort) registry.running.delete(attachmentId);
      for (const resolve of registry.waiting.get(abort) ?? []) resolve();
      registry.waiting.delete(abort);
      registry.emit((l) => l.ended?.({ attachmentId, direction }));
    },
  };
}

/** Aborts the running transfer of an attachment; false if none runs. */
export function abortTransfer(profile: Profile, attachmentId: number): boolean {
  const abort = registryOf(profile).running.get(attachmentId);
  if (!abort) return false;
  abort.abort();
  return true;
}

/** Resolves once the running transfer of an attachment has ended (at once if none runs). */
export function transferEnded(profile: Profile, attachmentId: number): Promise<void> {
  const registry = registryOf(profile);
  const abort = registry.running.get(attachmentId);
  if (!abort) return Promise.resolve();
  return new Promise((resolve) => {
    registry.waiting.set(abort, [...(registry.waiting.get(abort) ?? []), resolve]);
  });
}

/** True while a transfer of the attachment runs. */
export function isTransferring(profile: Profile, attachmentId: number): boolean {
  return registryOf(profile).running.has(attachmentId);
}

/** Subscribes to a profile's transfers; returns the unsubscribe function. */
export function onTransfers(profile: Profile, listener: TransferListener): () => void {
  const registry = registryOf(profile);
  registry.listeners.add(listener);
  return () => registry.listeners.delete(listener);
}

/** Tells listeners an attachment changed without a transfer (cancelled while waiting). */
export function announceEnd(profile: Profile, end: TransferEnd): void {
  registryOf(profile).emit((l) => l.ended?.(end));
}
