import { classifyRelayAddress } from '../../shared/relay/address.ts';

// The relay field's rules, the same the core applies (shared/relay/address.ts,
// docs/relay-protocol.md#relay-addresses): checked here only to say early
// what the core would refuse anyway.

/** True for an address the core accepts as the user's own relay (an insecure one after confirmation). */
export function isRelayAddress(value: string): boolean {
  return classifyRelayAddress(value.trim()) !== 'invalid';
}

/** True for `ws://` to another computer: usable only after the user confirms it (allowInsecureRelay). */
export function needsInsecureConsent(value: string): boolean {
  return classifyRelayAddress(value.trim()) === 'ws-remote';
}
