// The numbers of relay protocol v2 every implementation shares: the version
// the WebSocket path names and the limits (docs/relay-protocol.md#limits).

/** Protocol version; the WebSocket path is `/v2`. */
export const RELAY_PROTOCOL_VERSION = 2;

/** Limits every implementation enforces (docs/relay-protocol.md#limits). */
export const RELAY_LIMITS = {
  /** Largest frame (bytes of the WebSocket message), both directions. */
  maxFrameBytes: 256 * 1024,
  /** Largest envelope body (a sealed-sender message), bytes before base64. */
  maxEnvelopeBytes: 96 * 1024,
  /** Envelopes in flight (pushed, not yet acked) per connection. */
  pushWindow: 200,
  /** Envelope ids per ack frame. */
  maxAckIds: 500,
  /** Envelopes per send.batch frame (the frame limit applies too: clients split). */
  maxBatchEnvelopes: 100,
  /**
   * Recipient accounts per send.multi frame: a group of 1,000 members is one
   * frame when its message is small (about 180 bytes of frame per
   * single-device recipient). The frame limit applies too: clients split a
   * larger send into frames, each its own sealed-sender v2 message for its
   * share of the recipients (docs/relay-protocol.md#multi-recipient-sends).
   */
  maxMultiRecipients: 1000,
  /** One-time keys of each kind per keys.publish frame (50 Kyber keys are ~110 KiB of JSON). */
  maxOneTimeKeysPerPublish: 50,
  /** One-time keys of each kind a relay keeps per device; a publish beyond it is refused. */
  maxStoredOneTimeKeys: 200,
} as const;

/** One-time keys below this count make the relay send `keys.low` to the owner. */
export const LOW_KEY_THRESHOLD = 20;
