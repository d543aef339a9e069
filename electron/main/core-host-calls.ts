// Calls main has posted to the core worker and not yet had answered: each one
// waits on its id. When the worker dies they all end at once, because no
// answer will ever come for them.
import type { Result } from '../../shared/ipc/contract.ts';
import type { MediaSource } from '../core/attachments/media-source.ts';

/** The open calls and media look-ups of one CoreHost, by the id posted with them. */
export class PendingCalls {
  readonly #calls = new Map<number, (result: Result<unknown>) => void>();
  readonly #media = new Map<number, (source: MediaSource | null) => void>();
  #nextId = 1;

  /** A fresh id for a call; `post` sends it, the promise ends with the worker's answer. */
  call(post: (id: number) => void): Promise<Result<unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#calls.set(id, resolve);
      post(id);
    });
  }

  /** As `call`, for a media look-up (null: none). */
  media(post: (id: number) => void): Promise<MediaSource | null> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#media.set(id, resolve);
      post(id);
    });
  }

  /** The worker answered call `id` (an unknown id is ignored). */
  answerCall(id: number, result: Result<unknown>): void {
    const resolve = this.#calls.get(id);
    this.#calls.delete(id);
    resolve?.(result);
  }

  /** The worker answered media look-up `id`. */
  answerMedia(id: number, source: MediaSource | null): void {
    const resolve = this.#media.get(id);
    this.#media.delete(id);
    resolve?.(source);
  }

  /** The worker is gone: every open call ends with `result`, every look-up with none. */
  abandon(result: Result<never>): void {
    for (const resolve of this.#calls.values()) resolve(result);
    this.#calls.clear();
    for (const resolve of this.#media.values()) resolve(null);
    this.#media.clear();
  }
}
