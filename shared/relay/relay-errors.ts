import { z } from 'zod';

// The relay's stable error codes (docs/relay-protocol.md#errors): what an
// `error` frame and a refused recipient of `sent`/`sent.multi` may say.

/** Stable relay error codes, with the fixed sentence the `error` frame carries. */
export const RELAY_ERRORS = {
  RELAY_ERR_MALFORMED: 'the frame is not valid JSON or does not match any frame type',
  RELAY_ERR_UNKNOWN_TYPE: 'unknown frame type',
  RELAY_ERR_TOO_LARGE: 'the envelope or blob is larger than allowed',
  RELAY_ERR_UNSUPPORTED_VERSION: 'this relay speaks protocol 2; upgrade Sotto',
  RELAY_ERR_UNAUTHENTICATED: 'not allowed on this connection',
  RELAY_ERR_AUTH_FAILED: 'the signature does not prove this account on this relay',
  RELAY_ERR_FORBIDDEN: 'not allowed for this account',
  RELAY_ERR_NO_KEYS: 'that account has published no keys here',
  RELAY_ERR_BAD_TOKEN: 'unknown recipient or wrong delivery token',
  RELAY_ERR_MAILBOX_FULL: "the recipient's mailbox is full",
  RELAY_ERR_OVER_BUDGET: 'over budget for this recipient or source; try again later',
  RELAY_ERR_STORAGE_FULL: 'the relay is out of storage; try again later',
  RELAY_ERR_TOO_MANY_KEYS: 'the relay already holds as many one-time keys as it keeps for a device',
  RELAY_ERR_ACCOUNT_MOVED: 'that account moved to a new identity key',
  RELAY_ERR_RATE_LIMITED: 'too many frames; slow down',
  RELAY_ERR_TOO_MANY_CONNECTIONS: 'too many connections',
  RELAY_ERR_BLOB_QUOTA: "this account's attachment storage on the relay is full; try again later",
  RELAY_ERR_INTERNAL: 'the relay failed to process the request',
} as const;

export type RelayErrorCode = keyof typeof RELAY_ERRORS;

/** One of RELAY_ERRORS' codes, as frames carry it. */
export const relayErrorCodeSchema = z.enum(
  Object.keys(RELAY_ERRORS) as [RelayErrorCode, ...RelayErrorCode[]],
);
