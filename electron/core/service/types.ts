import type {
  EventName,
  EventPayload,
  MethodName,
  MethodOutput,
  Methods,
} from '../../../shared/ipc/contract.ts';
import type { z } from 'zod';
import type { MediaSource } from '../attachments/media-source.ts';
import type { KeychainAdapter } from '../keys/keychain.ts';
import type { KdfCost } from '../keys/passphrase.ts';
import type { Profile } from '../profile/profile.ts';
import type { BackupRun } from './backups.ts';
import type { ComposeSends } from './compose-sends.ts';
import type { DownloadControl } from './download-control.ts';
import type { ProfileSession } from './profile-session.ts';
import type { SyncSupervisor } from './sync-supervisor.ts';

/** A method's input after schema validation (what the service receives). */
export type ParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;

/** What the host adds to a call: the file the user chose for a file method. */
export interface CallContext {
  readonly file?: string;
  /** The files of an `attachments:send-files` call's pick tokens, in order (main resolved and used them up). */
  readonly picked?: readonly { readonly path: string }[];
}

/** Listener for the service's push events. */
export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** How the service's parts push an event (the service drops content events while locked). */
export type Emit = EventListener;

/** Where and how the service keeps its one profile. */
export interface ServiceOptions {
  /** The profile directory (created on `profile:create`). */
  readonly profileDir: string;
  /** The OS keychain, when the host has one (Electron's safeStorage, proxied from main). */
  readonly keychain?: KeychainAdapter;
  /** Argon2id cost for new passphrases (tests pass a cheap one; default: DEFAULT_KDF_COST). */
  readonly kdfCost?: KdfCost;
  /** The app's version, recorded in backup manifests. */
  readonly appVersion?: string;
  /** Whether to connect to relays (false: offline tests). Default true. */
  readonly sync?: boolean;
}

/**
 * The core behind the IPC contract: one method per contract method, push
 * events, one profile. Runs in a worker thread of the Electron main process
 * (electron/main/core-host.ts) or, in tests, in-process. Inputs are already
 * validated; errors are SottoErrors with a closed code.
 */
export interface CoreService {
  /** `context.file` is the file the user picked in main's dialog, for the contract's FILE_METHODS. */
  call<M extends MethodName>(
    method: M,
    input: ParsedInput<M>,
    context?: CallContext,
  ): Promise<MethodOutput<M>>;
  onEvent(listener: EventListener): () => void;
  /**
   * The stored copy of an attachment for main's attachment: scheme (never
   * the renderer); undefined while locked, or when there is none. Optional:
   * test stand-ins without media leave it out.
   */
  mediaSource?(attachmentId: number): MediaSource | undefined;
  /** Stops syncing and closes the profile. */
  close(): Promise<void>;
}

/** The service's parts, as its method handlers see them (app-service.ts wires them). */
export interface ServiceParts {
  readonly options: ServiceOptions;
  readonly session: ProfileSession;
  readonly sync: SyncSupervisor;
  readonly backups: BackupRun;
  /** Auto-download rules, download kicks and transfer events (download-control.ts). */
  readonly downloads: DownloadControl;
  /** Sends with files, cancellable while sealed (compose-sends.ts). */
  readonly sends: ComposeSends;
  readonly emit: Emit;
  /** The unlocked profile; APP_LOCKED or NO_PROFILE otherwise. */
  open(): Profile;
  /** Sends the outbox now (fire-and-forget). */
  sendNow(): void;
}
