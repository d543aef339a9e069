import type {
  EventName,
  EventPayload,
  MethodName,
  MethodOutput,
} from '../../shared/ipc/contract.ts';
import { methods } from '../../shared/ipc/contract.ts';
import { createCoreService } from '../../electron/core/service/app-service.ts';
import type { CoreService } from '../../electron/core/service/types.ts';
import { TEST_KDF, tempDir } from './profiles.ts';

// One user of the core service as main drives it: calls parsed by the
// contract's schemas, and every push event recorded for waitFor.

type Received = { event: EventName; payload: unknown };

/** A core service over one profile directory, its events recorded. */
export class ServiceUser {
  readonly events: Received[] = [];
  readonly service: CoreService;

  constructor(readonly dir = tempDir()) {
    this.service = createCoreService({ profileDir: dir, kdfCost: TEST_KDF });
    this.service.onEvent((event, payload) => this.events.push({ event, payload }));
  }

  /** Calls a method with its input parsed by the contract's schema, as main does. */
  call<M extends MethodName>(
    method: M,
    input: unknown = {},
    file?: string,
  ): Promise<MethodOutput<M>> {
    const parsed = methods[method].input.parse(input);
    return this.service.call(method, parsed as never, file === undefined ? {} : { file });
  }

  async waitFor<E extends EventName>(
    event: E,
    match: (payload: EventPayload<E>) => boolean,
    timeoutMs = 20_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => e.event === event && match(e.payload as EventPayload<E>));
      if (hit) return hit.payload as EventPayload<E>;
      if (Date.now() > deadline) throw new Error(`no ${event} event within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
