// Sandboxed preload (bundled as CommonJS, out/preload/index.cjs). Exposes
// `window.sotto`: exactly one function per IPC method of the contract, plus
// `on` for push events. No ipcRenderer, no Electron objects, nothing else.
//
// A sandboxed preload can require only 'electron' and a few Node built-ins, so
// this file must not import the contract at runtime (it would pull in zod). The
// names are listed here and checked against the contract's types at compile
// time; tests/unit/main/preload.test.ts checks them against the runtime tables.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EventName, MethodName } from '../../shared/ipc/contract.ts';
import type { SottoBridge } from './api.d.ts';

// Records keyed by the contract's name types: a missing or extra name fails typechecking.
const METHODS: Readonly<Record<MethodName, true>> = {
  'app:state': true,
  'groups:list': true,
  'groups:get': true,
  'groups:create': true,
  'groups:add': true,
  'groups:remove': true,
  'groups:make-admin': true,
  'groups:leave': true,
  'groups:rename': true,
  'groups:messages': true,
  'groups:send': true,
  'groups:deliveries': true,
  'groups:accept-member': true,
  'groups:search': true,
  'groups:mark-read': true,
  'groups:mute': true,
  'groups:retry': true,
  'groups:unmute': true,
  'groups:member-safety-number': true,
  'groups:verify-member': true,
  'attachments:list': true,
  'attachments:send': true,
  'attachments:send-bytes': true,
  'attachments:send-files': true,
  'attachments:pick': true,
  'attachments:picked-bytes': true,
  'attachments:save': true,
  'attachments:download': true,
  'attachments:cancel': true,
  'attachments:cancel-send': true,
  'attachments:network': true,
  'profile:create': true,
  'profile:unlock': true,
  'profile:lock': true,
  'profile:invite': true,
  'profile:change-passphrase': true,
  'settings:get': true,
  'settings:set': true,
  'contacts:add': true,
  'contacts:list': true,
  'contacts:safety-number': true,
  'contacts:verify': true,
  'contacts:accept-identity': true,
  'contacts:block': true,
  'contacts:unblock': true,
  'profile:reset-identity': true,
  'conversations:list': true,
  'conversations:get': true,
  'conversations:mark-read': true,
  'conversations:mute': true,
  'conversations:unmute': true,
  'conversations:set-draft': true,
  'messages:page': true,
  'messages:around': true,
  'messages:send': true,
  'messages:retry': true,
  'messages:search': true,
  'messages:delete': true,
  'sync:status': true,
  'backup:export': true,
  'backup:verify': true,
  'backup:restore': true,
  'backup:cancel': true,
  'export:conversation': true,
};
const EVENTS: Readonly<Record<EventName, true>> = {
  'message:new': true,
  'message:status': true,
  'group:message': true,
  'conversations:changed': true,
  'sync:status': true,
  'app:locked': true,
  'backup:progress': true,
  'attachments:progress': true,
  'attachments:changed': true,
  'attachments:sealing': true,
  'messages:deleted': true,
};

/** Same as the contract's channelOf (tested to agree). */
const channelOf = (name: MethodName | EventName): string => `sotto:${name}`;

const isEventName = (name: unknown): name is EventName =>
  typeof name === 'string' && Object.hasOwn(EVENTS, name);

function on(event: unknown, listener: unknown): () => void {
  if (!isEventName(event)) throw new TypeError('unknown Sotto event');
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  const channel = channelOf(event);
  // The IpcRendererEvent (with its sender) never reaches the page: only the payload does.
  const forward = (_event: IpcRendererEvent, payload: unknown): void => {
    (listener as (payload: unknown) => void)(payload);
  };
  ipcRenderer.on(channel, forward);
  return () => {
    ipcRenderer.removeListener(channel, forward);
  };
}

const api: Record<string, unknown> = { on };
for (const method of Object.keys(METHODS) as MethodName[]) {
  api[method] = (input: unknown) => ipcRenderer.invoke(channelOf(method), input);
}

const bridge = Object.freeze(api) as SottoBridge;
contextBridge.exposeInMainWorld('sotto', bridge);
