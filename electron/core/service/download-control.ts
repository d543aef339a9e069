import type { Network, DownloadRules } from '../attachments/download-policy.ts';
import { runDownloads } from '../attachments/jobs.ts';
import { failedMessageOf } from '../attachments/transfer-control.ts';
import { onTransfers } from '../attachments/transfers.ts';
import { hasCode } from '../errors.ts';
import { log } from '../log.ts';
import { readSettings } from '../profile/app-settings.ts';
import type { Profile } from '../profile/profile.ts';
import type { Emit } from './types.ts';

// The desktop app's side of attachment transfers: the auto-download policy
// from Settings with the connection the renderer reported (kept in memory
// only: a restart starts from 'unknown', which counts as not metered), the
// download passes a click or a policy change starts, and the transfer
// registry's progress turned into push events (ids and byte counts only).

/** Auto-download rules, download kicks and transfer events for the open profile. */
export class DownloadControl {
  private network: Network = 'unknown';
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly emit: Emit) {}

  /** The rules in force for `profile`: its Settings policy and the last reported connection. */
  rules(profile: Profile): DownloadRules {
    const settings = readSettings(profile.db);
    return {
      policy: {
        imagesUpToMb: settings.autoDownloadImagesMb,
        onMetered: settings.autoDownloadOnMetered,
      },
      network: this.network,
    };
  }

  /** Records the connection; true if it changed (a pass may now fetch what was held back). */
  setNetwork(network: Network): boolean {
    const changed = network !== this.network;
    this.network = network;
    return changed;
  }

  /** Runs a download pass now (fire-and-forget; joins a running one and gets one more after it). */
  downloadNow(profile: Profile): void {
    runDownloads(profile, () => this.rules(profile)).catch((error: unknown) => {
      if (!hasCode(error, 'RELAY_UNAVAILABLE')) log.error('service.download', error);
    });
  }

  /** Forwards the transfers of a newly opened profile as events (replacing the previous profile's). */
  follow(profile: Profile): void {
    this.unsubscribe?.();
    this.unsubscribe = onTransfers(profile, {
      progress: (p) =>
        this.emit('attachments:progress', {
          attachmentId: p.attachmentId,
          direction: p.direction,
          done: p.done,
          total: p.total,
        }),
      ended: (end) => {
        this.emit('attachments:changed', { attachmentId: end.attachmentId });
        if (end.direction === 'upload') this.uploadEnded(profile, end.attachmentId);
      },
    });
  }

  /** A cancelled or refused upload failed its 1:1 message: the window's bubble learns it like any status. */
  private uploadEnded(profile: Profile, attachmentId: number): void {
    const failed = failedMessageOf(profile, attachmentId);
    if (failed) this.emit('message:status', { ...failed, status: 'failed' });
  }
}
