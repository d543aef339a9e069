import { beforeAll, describe, expect, it, vi } from 'vitest';
import { channelOf, EVENT_NAMES, METHOD_NAMES } from '../../../shared/ipc/contract.ts';

// Electron's binary cannot run on these machines: 'electron' is the recording
// fake in fake-electron.ts (contextBridge and ipcRenderer record what the preload does).
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
let api: Record<string, unknown>;

beforeAll(async () => {
  await import('../../../electron/preload/index.ts');
  api = fake.contextBridge.exposed.get('sotto') as Record<string, unknown>;
});

describe('preload', () => {
  it("exposes only window.sotto, with exactly the contract's methods and `on`", () => {
    expect([...fake.contextBridge.exposed.keys()]).toEqual(['sotto']);
    expect(Object.keys(api).sort()).toEqual([...METHOD_NAMES, 'on'].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it("invokes each method's own channel with the input, and nothing else", async () => {
    for (const method of METHOD_NAMES) {
      fake.ipcRenderer.invoked.length = 0;
      const input = { probe: method };
      await (api[method] as (input: unknown) => Promise<unknown>)(input);
      expect(fake.ipcRenderer.invoked).toEqual([[channelOf(method), input]]);
    }
  });

  it('subscribes to contract events only, and hands listeners the payload without the IPC event', () => {
    const on = api['on'] as (event: unknown, listener: unknown) => () => void;
    for (const event of EVENT_NAMES) {
      const seen: unknown[][] = [];
      const off = on(event, (...args: unknown[]) => seen.push(args));
      fake.ipcRenderer.emit(
        channelOf(event),
        { sender: 'secret ipc event', senderFrame: {} },
        { payload: event },
      );
      expect(seen).toEqual([[{ payload: event }]]);
      off();
      fake.ipcRenderer.emit(channelOf(event), {}, { payload: 'after off' });
      expect(seen).toHaveLength(1);
      expect(fake.ipcRenderer.listenerCount(channelOf(event))).toBe(0);
    }
    for (const bad of ['nope', 'sotto:message:new', 'app:state', '__proto__', 'toString', 42])
      expect(() => on(bad, () => undefined), String(bad)).toThrow(TypeError);
    expect(() => on('message:new', 'not a function')).toThrow(TypeError);
  });
});
