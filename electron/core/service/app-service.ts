import type {
  EventName,
  EventPayload,
  MethodName,
  MethodOutput,
} from '../../../shared/ipc/contract.ts';
import { type MediaSource, mediaSourceOf } from '../attachments/media-source.ts';
import { log } from '../log.ts';
import type { Profile } from '../profile/profile.ts';
import { BackupRun } from './backups.ts';
import { ComposeSends } from './compose-sends.ts';
import { DownloadControl } from './download-control.ts';
import { createHandlers, type Handlers, OPEN_METHODS } from './handlers.ts';
import { ProfileSession } from './profile-session.ts';
import { SyncSupervisor } from './sync-supervisor.ts';
import type {
  CallContext,
  CoreService,
  EventListener,
  ParsedInput,
  ServiceOptions,
  ServiceParts,
} from './types.ts';

// The service's seams, one file each: the handler table (handlers.ts), the
// profile session (profile-session.ts: create, unlock, lock, restore, reset),
// sync supervision (sync-supervisor.ts: loop, status, backlog, events) and
// backups (backups.ts). This file wires them and guards every call.

/** Creates the core service for one profile directory (see CoreService). */
export function createCoreService(options: ServiceOptions): CoreService {
  return new AppService(options);
}

/**
 * The contract's implementation over the headless core: one profile, its sync
 * engine running in the background, push events for what changed.
 */
class AppService implements CoreService, ServiceParts {
  readonly session: ProfileSession;
  readonly sync: SyncSupervisor;
  readonly backups = new BackupRun((payload) => this.emit('backup:progress', payload));
  readonly downloads: DownloadControl;
  readonly sends: ComposeSends;
  private readonly listeners = new Set<EventListener>();
  private readonly handlers: Handlers;

  constructor(readonly options: ServiceOptions) {
    this.downloads = new DownloadControl(this.emit);
    this.sends = new ComposeSends(this.emit);
    this.sync = new SyncSupervisor(this.emit, options.sync !== false, (profile) =>
      this.downloads.rules(profile),
    );
    this.session = new ProfileSession(options, {
      opened: (profile: Profile) => {
        this.downloads.follow(profile);
        this.sync.start(profile);
      },
      stopSync: () => this.sync.stop(),
      emit: this.emit,
    });
    this.handlers = createHandlers(this);
  }

  async call<M extends MethodName>(
    method: M,
    input: ParsedInput<M>,
    context: CallContext = {},
  ): Promise<MethodOutput<M>> {
    // The lock check, once for every method that needs an unlocked profile.
    if (!OPEN_METHODS.has(method)) this.open();
    const handler = this.handlers[method] as (
      input: ParsedInput<M>,
      context: CallContext,
    ) => Promise<MethodOutput<M>> | MethodOutput<M>;
    return handler(input, context);
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  mediaSource(attachmentId: number): MediaSource | undefined {
    // Nothing is shown while the UI is locked, media included.
    const profile = this.session.profile;
    return profile && !this.session.locked ? mediaSourceOf(profile, attachmentId) : undefined;
  }

  async close(): Promise<void> {
    await this.sync.stop();
    await this.session.close();
  }

  open(): Profile {
    return this.session.open();
  }

  sendNow(): void {
    const profile = this.session.profile;
    if (profile) this.sync.sendNow(profile);
  }

  readonly emit = <E extends EventName>(event: E, payload: EventPayload<E>): void => {
    // While locked, only the lock itself and content-free status reach the UI
    // (main uses sync:status's unread count for the badge and a text-free notification).
    if (this.session.locked && event !== 'app:locked' && event !== 'sync:status') return;
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        log.error('service.listener', error);
      }
    }
  };
}
