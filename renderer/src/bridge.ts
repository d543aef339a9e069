// The renderer's one door to the core. Only this module touches `window.sotto`
// (the sandboxed preload's object); everything else calls `call` and `on`.
// Failures arrive as a closed error code (BridgeError) and are shown through
// the locale file, never as raw exception text.
import {
  BridgeError,
  unwrap,
  type Result,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type SottoApi,
} from '../../shared/ipc/contract.ts';
import type { ErrorCode } from '../../shared/errors.ts';

// electron/preload/api.d.ts names this type SottoBridge (= SottoApi); the
// renderer's lint rules forbid importing from electron/, so it comes from shared/.
type SottoBridge = SottoApi;

declare global {
  interface Window {
    /** Exposed by the preload (electron/preload) or, in tests, by a stand-in. */
    readonly sotto?: SottoBridge;
  }
}

function api(): SottoBridge {
  const bridge = window.sotto;
  // Without a preload there is no core to talk to; report it as a code like any other failure.
  if (!bridge) throw new BridgeError('INTERNAL');
  return bridge;
}

/** Calls a contract method and unwraps its result; throws a BridgeError carrying the code. */
export async function call<M extends MethodName>(
  method: M,
  input: MethodInput<M>,
): Promise<MethodOutput<M>> {
  // The mapped type loses the link between M and its function; the contract guarantees it.
  const fn = api()[method] as unknown as (
    input: MethodInput<M>,
  ) => Promise<Result<MethodOutput<M>>>;
  return unwrap(await fn(input));
}

/** Subscribes to a push event; returns the unsubscribe function. */
export function on<E extends EventName>(
  event: E,
  listener: (payload: EventPayload<E>) => void,
): () => void {
  return api().on(event, listener);
}

/** The error code of anything a bridge call threw (unknown failures are INTERNAL). */
export function errorCodeOf(error: unknown): ErrorCode {
  return error instanceof BridgeError ? error.code : 'INTERNAL';
}

export { BridgeError };
