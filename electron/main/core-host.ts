// The main thread's handle on the core: starts the core worker thread, validates
// every call against the IPC contract before the worker sees it, and relays
// results, push events and keychain requests. Imports no 'electron', so the
// Chromium test bridge and the benchmarks run it under plain Node too.
import type { Worker } from 'node:worker_threads';
import {
  type AppState,
  isMethodName,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  methods,
  type Result,
} from '../../shared/ipc/contract.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import type { MediaSource } from '../core/attachments/media-source.ts';
import { SottoError } from '../core/errors.ts';
import type { KeychainAdapter } from '../core/keys/keychain.ts';
import { log } from '../core/log.ts';
import type { CallContext, ServiceOptions } from '../core/service/types.ts';
import { inBackground } from './background.ts';
import { PendingCalls } from './core-host-calls.ts';
import { HostEvents, type HostEventListener } from './core-host-events.ts';
import { answerKeychain } from './core-host-keychain.ts';
import type { CoreWorkerInit, HostToWorker, WorkerToHost } from './core-protocol.ts';
import { RestartBudget } from './core-restart-budget.ts';
import { defaultWorkerUrl, spawnWorker, workerReady } from './core-worker-spawn.ts';

export type { HostEventListener } from './core-host-events.ts';

export interface CoreHostOptions extends ServiceOptions {
  /**
   * The worker entry. Default: `core-worker.js` next to the built main bundle,
   * or `core-worker.ts` when running from source (loaded through tsx).
   */
  readonly workerUrl?: URL;
}

/** After the service closed, how long the worker may take to exit before it is terminated. */
const EXIT_GRACE_MS = 5_000;

const failure = (code: ErrorCode): Result<never> => ({ ok: false, code });

/**
 * The core in a worker thread, behind the typed contract. `call` never throws:
 * every outcome is a `Result` carrying only a closed error code. If the worker
 * dies, the calls it had are INTERNAL, and a new worker is started: its core
 * comes up locked (the user unlocks again) and listeners get `app:locked`
 * with reason 'restart' (docs/ipc.md#events).
 */
export class CoreHost {
  #worker: Worker;
  readonly #init: CoreWorkerInit;
  readonly #url: URL;
  readonly #keychain: KeychainAdapter | undefined;
  readonly #pending = new PendingCalls();
  readonly #events = new HostEvents();
  #exited: Promise<void>;
  /** Resolves once a restarted worker is ready (calls made meanwhile wait for it). */
  #restarting: Promise<boolean> | undefined;
  readonly #restarts = new RestartBudget();
  #diedDuringRestart = false;
  /** Set once the first worker is ready: a worker that fails to start is not restarted. */
  #started = false;
  #state: 'open' | 'closing' | 'gone' = 'open';
  #serviceClosed: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    worker: Worker,
    init: CoreWorkerInit,
    url: URL,
    keychain: KeychainAdapter | undefined,
  ) {
    this.#worker = worker;
    this.#init = init;
    this.#url = url;
    this.#keychain = keychain;
    this.#exited = this.#attach(worker);
  }

  /** Starts the worker and resolves once its CoreService exists; rejects with the service's error code. */
  static async start(options: CoreHostOptions): Promise<CoreHost> {
    const init: CoreWorkerInit = {
      profileDir: options.profileDir,
      ...(options.kdfCost ? { kdfCost: options.kdfCost } : {}),
      ...(options.appVersion ? { appVersion: options.appVersion } : {}),
      ...(options.sync === undefined ? {} : { sync: options.sync }),
      keychain: options.keychain
        ? { backend: options.keychain.backend, isSecure: options.keychain.isSecure }
        : null,
    };
    const url = options.workerUrl ?? defaultWorkerUrl();
    const worker = spawnWorker(url, init);
    const ready = workerReady(worker);
    const host = new CoreHost(worker, init, url, options.keychain);
    await ready;
    host.#started = true;
    return host;
  }

  /**
   * Calls a contract method. Unknown methods and inputs that fail the schema
   * are INVALID_INPUT. `context` is what the trusted caller adds (the file the
   * user chose for a file method); it never comes from the renderer.
   */
  call<M extends MethodName>(
    method: M,
    input: MethodInput<M>,
    context?: CallContext,
  ): Promise<Result<MethodOutput<M>>>;
  call(method: string, rawInput: unknown, context?: CallContext): Promise<Result<unknown>>;
  call(method: string, rawInput: unknown, context: CallContext = {}): Promise<Result<unknown>> {
    if (!isMethodName(method)) return Promise.resolve(failure('INVALID_INPUT'));
    const parsed = methods[method].input.safeParse(rawInput);
    if (!parsed.success) return Promise.resolve(failure('INVALID_INPUT'));
    return this.#send(method, parsed.data, {
      ...(context.file === undefined ? {} : { file: context.file }),
      ...(context.picked === undefined ? {} : { picked: context.picked }),
    });
  }

  async #send(method: MethodName, input: unknown, context: CallContext): Promise<Result<unknown>> {
    if (this.#restarting && !(await this.#restarting)) return failure('INTERNAL');
    if (this.#state !== 'open')
      return failure(this.#state === 'closing' ? 'CANCELLED' : 'INTERNAL');
    return this.#dispatch(method, input, context);
  }

  #dispatch(method: MethodName, input: unknown, context: CallContext): Promise<Result<unknown>> {
    return this.#pending.call((id) => this.#post({ type: 'call', id, method, input, context }));
  }

  /**
   * Where attachment `attachmentId`'s stored copy is and what opens it, for
   * main's attachment: scheme only (not a contract method: the renderer can
   * never ask for it). Undefined while locked, for an unknown id, one not
   * downloaded, or when the core is not running.
   */
  async mediaSource(attachmentId: number): Promise<MediaSource | undefined> {
    if (this.#restarting && !(await this.#restarting)) return undefined;
    if (this.#state !== 'open') return undefined;
    const source = await this.#pending.media((id) =>
      this.#post({ type: 'media', id, attachmentId }),
    );
    return source ?? undefined;
  }

  /** Subscribes to the core's push events; returns the unsubscribe function. */
  onEvent(listener: HostEventListener): () => void {
    return this.#events.on(listener);
  }

  /**
   * Closes the service (it finishes calls already sent) and waits for the
   * worker to exit. Never terminates a worker whose database may still be
   * open: killing SQLCipher mid-statement aborts the whole process.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#restarting;
    if (this.#state === 'gone') return;
    this.#state = 'closing';
    const serviceClosed = new Promise<void>((resolve) => (this.#serviceClosed = resolve));
    this.#post({ type: 'close' });
    await Promise.race([serviceClosed, this.#exited]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>(
      (resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)),
    );
    const outcome = await Promise.race([this.#exited, grace]);
    clearTimeout(timer);
    if (outcome === 'late') await this.#worker.terminate();
  }

  #post(message: HostToWorker): void {
    this.#worker.postMessage(message);
  }

  #onMessage(message: WorkerToHost): void {
    switch (message.type) {
      case 'result':
        this.#pending.answerCall(message.id, message.result);
        break;
      case 'media-result':
        this.#pending.answerMedia(message.id, message.source);
        break;
      case 'event':
        this.#events.emit(message.name, message.payload as never);
        break;
      case 'keychain':
        inBackground('core.keychain_failed', () =>
          answerKeychain(this.#keychain, message, (reply) => this.#post(reply)),
        );
        break;
      case 'closed':
        this.#serviceClosed?.();
        break;
      case 'ready':
      case 'start-failed':
        break; // handled by start()
    }
  }

  /** Wires a worker's messages and exit to this host; resolves when it exits. */
  #attach(worker: Worker): Promise<void> {
    worker.on('message', (message: WorkerToHost) => this.#onMessage(message));
    worker.on('error', (error) => log.error('core.worker_error', error));
    return new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.#workerExited(code);
        resolve();
      });
    });
  }

  /**
   * The worker is gone: its calls fail (INTERNAL; the core may or may not
   * have done them). Unless the host is closing, a new worker takes over.
   */
  #workerExited(code: number): void {
    this.#serviceClosed?.();
    this.#pending.abandon(failure('INTERNAL'));
    if (this.#state !== 'open' || !this.#started) {
      this.#state = 'gone';
      return;
    }
    log.warn('core.worker_exit', { code });
    if (this.#restarting) {
      this.#diedDuringRestart = true; // #restart sees it and starts another worker
      return;
    }
    this.#restarting = this.#restart().finally(() => (this.#restarting = undefined));
  }

  /**
   * Starts a new worker for the same profile, unless the core crashed too
   * often lately (then every call is INTERNAL: a crash loop must not spin).
   * The new core has the profile closed, so it reports 'locked' (or
   * 'no-profile'); the UI is told so it asks for the passphrase again.
   */
  async #restart(): Promise<boolean> {
    for (;;) {
      if (!this.#restarts.take()) {
        log.error('core.restart_gave_up', new SottoError('INTERNAL'), {
          restarts: this.#restarts.recent,
        });
        this.#state = 'gone';
        return false;
      }
      this.#diedDuringRestart = false;
      try {
        const worker = spawnWorker(this.#url, this.#init);
        const ready = workerReady(worker);
        this.#worker = worker;
        this.#exited = this.#attach(worker);
        await ready;
      } catch (error) {
        // A core that cannot even start will not start on a retry either.
        log.error('core.restart_failed', error);
        this.#state = 'gone';
        return false;
      }
      // A profile that was open is now closed: the UI must show the lock screen.
      // At first run (no profile yet) there is nothing to unlock and nothing to say.
      const state = await this.#dispatch('app:state', {}, {});
      if (this.#diedDuringRestart) continue;
      log.info('core.restarted', { restarts: this.#restarts.recent });
      if (!state.ok || (state.value as AppState).phase !== 'no-profile')
        this.#events.emit('app:locked', { reason: 'restart' });
      return true;
    }
  }
}
