// Messages between CoreHost (main thread) and the core worker. Internal to
// electron/main: both ends are ours, so these are plain structured-clone types;
// untrusted input is validated by CoreHost before it becomes a `call`.
import type { ErrorCode } from '../../shared/errors.ts';
import type { EventName, MethodName, Result } from '../../shared/ipc/contract.ts';
import type { MediaSource } from '../core/attachments/media-source.ts';
import type { KdfCost } from '../core/keys/passphrase.ts';
import type { CallContext } from '../core/service/types.ts';

/** What the worker needs to build its CoreService (sent as workerData). */
export interface CoreWorkerInit {
  readonly profileDir: string;
  readonly kdfCost?: KdfCost;
  readonly sync?: boolean;
  readonly appVersion?: string;
  /** The host's keychain, if any: the worker gets a proxy with these properties. */
  readonly keychain: { readonly backend: string; readonly isSecure: boolean } | null;
}

export type KeychainOp = 'encrypt' | 'decrypt';

export type HostToWorker =
  | {
      readonly type: 'call';
      readonly id: number;
      readonly method: MethodName;
      readonly input: unknown;
      readonly context: CallContext;
    }
  | {
      readonly type: 'keychain-reply';
      readonly id: number;
      readonly ok: true;
      readonly value: Uint8Array;
    }
  | {
      readonly type: 'keychain-reply';
      readonly id: number;
      readonly ok: false;
      readonly code: ErrorCode | null;
    }
  /** main's attachment: scheme asks where a stored copy is (never on behalf of the renderer's IPC). */
  | { readonly type: 'media'; readonly id: number; readonly attachmentId: number }
  | { readonly type: 'close' };

export type WorkerToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'start-failed'; readonly code: ErrorCode }
  | { readonly type: 'result'; readonly id: number; readonly result: Result<unknown> }
  | { readonly type: 'event'; readonly name: EventName; readonly payload: unknown }
  | {
      readonly type: 'keychain';
      readonly id: number;
      readonly op: KeychainOp;
      readonly data: Uint8Array;
    }
  | { readonly type: 'media-result'; readonly id: number; readonly source: MediaSource | null }
  | { readonly type: 'closed' };
