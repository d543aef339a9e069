// The core's push events on main's side: who listens, and delivering one event
// to each listener so that a failing listener cannot stop the others (or the host).
import type { EventName, EventPayload } from '../../shared/ipc/contract.ts';
import { log } from '../core/log.ts';

/** Receives the core's push events. */
export type HostEventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** The listeners of one CoreHost. */
export class HostEvents {
  readonly #listeners = new Set<HostEventListener>();

  /** Subscribes `listener`; returns the unsubscribe function. */
  on(listener: HostEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands the event to every listener; a throwing listener is logged, not propagated. */
  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const listener of this.#listeners) {
      try {
        listener(name, payload);
      } catch (error) {
        log.error('core.event_listener_failed', error);
      }
    }
  }
}
