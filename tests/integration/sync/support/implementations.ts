import { join } from 'node:path';
import { tempDir } from '../../../support/profiles.ts';
import { startRelayProcess } from '../../../support/relay-process.ts';

// The real relays every contract test runs against: a plain directory, and a
// `sotto-relay` process over a loopback WebSocket.

/** A started relay: its address and how to stop it. */
export interface StartedRelay {
  readonly address: string;
  readonly stop: () => Promise<unknown>;
}

/** The relay implementations of the contract suites. */
export function relayImplementations(): { name: string; start: () => Promise<StartedRelay> }[] {
  return [
    {
      name: 'folder relay',
      start: () =>
        Promise.resolve({ address: join(tempDir(), 'relay'), stop: () => Promise.resolve() }),
    },
    {
      name: 'WebSocket relay process',
      start: async () => {
        const relay = await startRelayProcess(tempDir());
        return { address: relay.url, stop: () => relay.stop() };
      },
    },
  ];
}
