// Sandboxed preload. It will expose exactly one function per IPC method of the
// typed contract in shared/ipc (desktop-app issue) and nothing else.
export {};
