// Type of what the preload exposes to the renderer (window.sotto). Empty until the
// typed IPC contract exists.
export type SottoBridge = Record<string, never>;
