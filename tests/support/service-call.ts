import type { MethodName, MethodOutput } from '../../shared/ipc/contract.ts';
import { methods } from '../../shared/ipc/contract.ts';
import type { CallContext, CoreService } from '../../electron/core/service/types.ts';

/** Calls a core service method the way main does: the input parsed by the contract's schema first. */
export function callService<M extends MethodName>(
  service: CoreService,
  method: M,
  input: unknown = {},
  context?: CallContext,
): Promise<MethodOutput<M>> {
  return service.call(method, methods[method].input.parse(input) as never, context);
}
