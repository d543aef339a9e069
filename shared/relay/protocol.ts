// The Sotto relay wire protocol, version 2. docs/relay-protocol.md is the
// normative description; this file is its executable form, shared by the relay
// and the client. Every frame is one WebSocket text message holding one JSON object.
//
// Two kinds of connection share one endpoint (`/v2`):
// - an *account* connection: the device proves its identity key (a signature
//   over a challenge that names this relay) and may then read its own mailbox,
//   publish its keys and register its delivery token. A device opens one only
//   to its own relay.
// - an *anonymous* connection: no identity at all. It may submit sealed
//   envelopes and fetch prekey bundles, each authorized by the recipient's
//   delivery token. The relay never learns who sent an envelope.
//
// The protocol's parts live in the files below; this file is the one import
// path the relay and the client use.

export * from './protocol-limits.ts';
export * from './relay-errors.ts';
export {
  DELIVERY_TOKEN_BYTES,
  deliveryTokenSchema,
  type RelayId,
  relayIdSchema,
} from './wire-fields.ts';
export {
  type MultiRecipient,
  multiRecipientSchema,
  type SealedSubmission,
  sealedSubmissionSchema,
  type WireEnvelope,
  wireEnvelopeSchema,
} from './envelopes.ts';
export * from './signed-messages.ts';
export * from './client-frames.ts';
export * from './server-frames.ts';
