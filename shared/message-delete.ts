// "Delete for me" (docs/ipc.md#deleting-messages): how many messages one call
// may delete. Zod-free, so the CLI's --help can name the bound without
// loading a schema library.

/** Most messages one delete names (the app's selection, the CLI's arguments). */
export const MAX_DELETE_MESSAGES = 500;
