import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Contact } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';

export interface SafetyNumber {
  readonly conversationId: number;
  /** 60 digits. */
  readonly digits: string;
  readonly scannable: string;
}

export const useContactsStore = defineStore('contacts', () => {
  const contacts = ref<Contact[]>([]);
  const safetyNumber = ref<SafetyNumber | null>(null);

  const byConversation = computed(() => new Map(contacts.value.map((c) => [c.conversationId, c])));

  function upsert(contact: Contact): void {
    // By conversation too: accepting a contact's move gives the same conversation a new account id.
    const rest = contacts.value.filter(
      (c) => c.accountId !== contact.accountId && c.conversationId !== contact.conversationId,
    );
    contacts.value = [...rest, contact];
  }

  async function load(): Promise<void> {
    contacts.value = await call('contacts:list', {});
  }

  /** Adds a contact from a pasted invite link; returns it (its conversation opens next). */
  async function add(invite: string): Promise<Contact> {
    const contact = await call('contacts:add', { invite: invite.trim() });
    upsert(contact);
    return contact;
  }

  async function loadSafetyNumber(conversationId: number): Promise<void> {
    safetyNumber.value = null;
    const number = await call('contacts:safety-number', { conversationId });
    safetyNumber.value = { conversationId, ...number };
  }

  async function verify(conversationId: number): Promise<Contact> {
    const contact = await call('contacts:verify', { conversationId });
    upsert(contact);
    return contact;
  }

  async function acceptIdentity(conversationId: number): Promise<Contact> {
    const contact = await call('contacts:accept-identity', { conversationId });
    upsert(contact);
    return contact;
  }

  /** Blocks (the core rotates this account's delivery token) or unblocks the contact of a conversation. */
  async function setBlocked(conversationId: number, blocked: boolean): Promise<Contact> {
    const contact = await call(blocked ? 'contacts:block' : 'contacts:unblock', { conversationId });
    upsert(contact);
    return contact;
  }

  function reset(): void {
    contacts.value = [];
    safetyNumber.value = null;
  }

  return {
    contacts,
    safetyNumber,
    byConversation,
    load,
    add,
    loadSafetyNumber,
    verify,
    acceptIdentity,
    setBlocked,
    reset,
  };
});
