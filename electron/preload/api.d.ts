// What the preload exposes to the renderer as `window.sotto`: the typed IPC
// contract's functions (shared/ipc/contract.ts), nothing else.
import type { SottoApi } from '../../shared/ipc/contract.ts';

export type SottoBridge = SottoApi;
