// Safety numbers and identity changes, with @pinia/testing's pinia (actions
// left real so they reach the fake bridge).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createTestingPinia, type TestingPinia } from '@pinia/testing';
import SafetyNumberView from '../../../renderer/src/views/SafetyNumberView.vue';
import IdentityBanner from '../../../renderer/src/components/IdentityBanner.vue';
import AddContactView from '../../../renderer/src/views/AddContactView.vue';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { useContactsStore } from '../../../renderer/src/stores/contacts.ts';
import { installFakeBridge, type FakeBridge } from '../fake-bridge.ts';
import { plugins, settle, testRouter } from '../helpers.ts';

let fake: FakeBridge;
let pinia: TestingPinia;

beforeEach(() => {
  fake = installFakeBridge();
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 5, displayName: 'Erin', identityChanged: true });
  pinia = createTestingPinia({ stubActions: false, createSpy: vi.fn });
});

const router = () =>
  testRouter([
    { path: '/', component: { template: '<div />' } },
    { path: '/chat/:id', name: 'chat', component: { template: '<div />' } },
    { path: '/chat/:id/safety-number', name: 'safety-number', component: { template: '<div />' } },
  ]);

describe('the safety number screen', () => {
  it('shows 60 digits in 12 groups of 5, and "Mark as verified" turns into a verified badge', async () => {
    fake.addConversation({ id: 6, displayName: 'Finn' });
    await useContactsStore(pinia).load();
    const wrapper = mount(SafetyNumberView, {
      props: { id: '6' },
      global: { plugins: plugins(pinia, router()) },
      attachTo: document.body,
    });
    await settle();
    expect(wrapper.find('[data-testid="accept-identity"]').exists()).toBe(false);
    const digits = wrapper.get('[data-testid="safety-number-digits"]');
    const groups = digits.findAll('.safety-group').map((g) => g.text());
    expect(groups).toHaveLength(12);
    expect(groups.every((g) => /^\d{5}$/.test(g))).toBe(true);
    expect(groups.join('')).toBe('0123456789'.repeat(6));
    expect(wrapper.find('[data-testid="verified-badge"]').exists()).toBe(false);

    await wrapper.get('[data-testid="verify-button"]').trigger('click');
    await settle();
    expect(fake.callsOf('contacts:verify')).toEqual([{ conversationId: 6 }]);
    expect(wrapper.find('[data-testid="verify-button"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="verified-badge"]').isVisible()).toBe(true);
    // The button that had focus is gone: focus moves to the note that replaced it.
    expect(document.activeElement).toBe(wrapper.get('[data-testid="verified-badge"]').element);
    // The digits are introduced by a (hidden) heading, not an aria-label a <p> cannot carry.
    expect(digits.attributes('aria-label')).toBeUndefined();
    expect(wrapper.get('h2').text()).toBe('Safety number digits');
    wrapper.unmount();
  });
});

describe('the identity-change banner', () => {
  it('makes comparing safety numbers the primary action, and offers no accept of its own', () => {
    const r = router();
    const wrapper = mount(IdentityBanner, {
      props: { conversationId: 5, name: 'Erin' },
      global: { plugins: plugins(pinia, r) },
    });
    expect(wrapper.text()).toContain('Erin reset their identity and moved to a new key');
    expect(wrapper.text()).toContain('compare safety numbers with Erin before you accept');
    const review = wrapper.get('[data-testid="identity-review"]');
    expect(review.classes()).toContain('primary');
    expect(review.attributes('href')).toBe('/chat/5/safety-number');
    expect(wrapper.find('[data-testid="accept-identity"]').exists()).toBe(false);
    expect(wrapper.findAll('button.primary, a.primary')).toHaveLength(1);
  });

  it('accepting is one step further, on the safety number screen, and returns to the conversation', async () => {
    const conversations = useConversationsStore(pinia);
    await conversations.refresh();
    await conversations.open(5);
    await useContactsStore(pinia).load();
    const r = router();
    await r.push('/chat/5/safety-number');
    const wrapper = mount(SafetyNumberView, {
      props: { id: '5' },
      global: { plugins: plugins(pinia, r) },
    });
    await settle();
    expect(wrapper.get('[data-testid="safety-changed"]').text()).toContain(
      'Erin moved to a new key',
    );
    expect(wrapper.find('[data-testid="verify-button"]').exists()).toBe(false);
    await wrapper.get('[data-testid="accept-identity"]').trigger('click');
    await settle();
    expect(fake.callsOf('contacts:accept-identity')).toEqual([{ conversationId: 5 }]);
    expect(conversations.active?.identityChanged).toBe(false);
    expect(conversations.byId.get(5)?.identityChanged).toBe(false);
    expect(r.currentRoute.value.fullPath).toBe('/chat/5');
  });
});

describe('adding a contact', () => {
  it('shows a bad invite as its sentence, keeps the text, and adds a good one', async () => {
    const wrapper = mount(AddContactView, {
      global: { plugins: plugins(pinia, router()), stubs: { InviteCard: true } },
    });
    await wrapper.get('[data-testid="add-contact-invite"]').setValue('not an invite');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(wrapper.get('[data-testid="add-contact-error"]').text()).toBe(
      'That is not a valid Sotto invite link.',
    );
    expect(
      wrapper.get('[data-testid="add-contact-submit"]').attributes('disabled'),
    ).toBeUndefined(); // not stuck busy
    expect(
      (wrapper.get('[data-testid="add-contact-invite"]').element as HTMLTextAreaElement).value,
    ).toBe('not an invite');

    await wrapper.get('[data-testid="add-contact-invite"]').setValue('sotto://invite/1#abc');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(fake.callsOf('contacts:add')).toEqual([
      { invite: 'not an invite' },
      { invite: 'sotto://invite/1#abc' },
    ]);
    expect(wrapper.find('[data-testid="add-contact-error"]').exists()).toBe(false);
  });
});
