import { muteEnd } from '../../shared/mute.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import type { Contact, MethodInput, MethodName, MethodOutput } from '../../shared/ipc/contract.ts';
import type { GroupMessage, GroupSummary } from '../../shared/ipc/groups.ts';
import type { AccountId } from '../../shared/protocol/account-id.ts';
import { fakeAccountId } from './fake-bridge.ts';

// The `groups:*` methods of the renderer's fake bridge: groups, their
// messages and per-member deliveries in memory, with the core's rules the
// group screens meet (only admins change a group, blocked or changed contacts
// cannot be added, nobody writes to a group they left).

type GroupMethod = Extract<MethodName, `groups:${string}`>;
type Member = GroupSummary['members'][number];

/** The fake's group state; tests read and seed it. */
export class FakeGroups {
  readonly groups: GroupSummary[] = [];
  readonly messages: GroupMessage[] = [];
  /** `groups:mark-read` calls, by group (what a test checks the app asked for). */
  readonly markedRead: string[] = [];
  /** Accounts whose key `groups:verify-member` marked verified. */
  readonly verified = new Set<string>();
  /** Called after `groups:retry` queued a message (a test resumes its cancelled files here, as the core does). */
  retried: (messageId: number) => void = () => undefined;
  private nextId = 5_000_000;

  constructor(private readonly contacts: () => Contact[]) {}

  /** Adds a group; members are given as contacts' conversation ids (we are the admin unless told). */
  seed(partial: Partial<GroupSummary> & { title: string }, memberIds: number[] = []): GroupSummary {
    const group: GroupSummary = {
      groupId: `${String(this.groups.length + 1).padStart(42, 'G')}/=`,
      revision: 0,
      standing: 'member',
      members: [this.self(true), ...memberIds.map((id) => this.memberOf(id))],
      updatedAt: 1_000,
      lastMessageAt: null,
      lastMessagePreview: null,
      unreadCount: 0,
      mutedUntil: null,
      ...partial,
    };
    this.groups.push(group);
    return group;
  }

  /** An incoming message from `accountId`, as the core stores a received one. */
  receive(groupId: string, accountId: AccountId, body: string, sentAt: number): GroupMessage {
    const group = this.find(groupId);
    const sender = group.members.find((m) => m.accountId === accountId);
    const message: GroupMessage = {
      id: this.nextId++,
      uuid: `g-${this.nextId}`,
      groupId,
      outgoing: false,
      senderAccount: accountId,
      senderName: sender?.name ?? null,
      sentAt,
      receivedAt: sentAt,
      body,
      status: 'received',
    };
    this.messages.push(message);
    this.update(groupId, {
      lastMessageAt: sentAt,
      lastMessagePreview: body,
      unreadCount: group.unreadCount + 1,
    });
    return message;
  }

  /** Replaces a group's summary fields (a change that arrived from another member). */
  update(groupId: string, patch: Partial<GroupSummary>): GroupSummary {
    const index = this.groups.findIndex((g) => g.groupId === groupId);
    const next = { ...this.find(groupId), ...patch };
    this.groups[index] = next;
    return next;
  }

  handlers(fail: (code: ErrorCode) => never): {
    [M in GroupMethod]: (input: MethodInput<M>) => MethodOutput<M>;
  } {
    const find = (groupId: string) =>
      this.groups.find((g) => g.groupId === groupId) ?? fail('UNKNOWN_GROUP');
    const asAdmin = (groupId: string) => {
      const group = find(groupId);
      if (group.standing !== 'member') fail('NOT_GROUP_MEMBER');
      if (!group.members.some((m) => m.self && m.admin)) fail('NOT_GROUP_ADMIN');
      return group;
    };
    const card = (conversationId: number): Member => {
      const contact = this.contacts().find((c) => c.conversationId === conversationId);
      if (!contact) fail('UNKNOWN_CONTACT');
      if (contact.blocked) fail('CONTACT_BLOCKED');
      if (contact.trust === 'changed') fail('IDENTITY_CHANGED');
      return this.memberOf(conversationId);
    };
    return {
      'groups:list': () => this.groups.map((g) => ({ ...g })),
      'groups:get': (input) => ({ ...find(input.groupId) }),
      'groups:create': (input) => {
        if (input.title.trim() === '') fail('INVALID_NAME');
        const members = input.members.map(card);
        const group = this.seed({ title: input.title, updatedAt: Date.now() });
        return this.update(group.groupId, { members: [this.self(true), ...members] });
      },
      'groups:add': (input) => {
        const group = asAdmin(input.groupId);
        const member = card(input.conversationId);
        return this.update(group.groupId, {
          members: [...group.members, member],
          revision: group.revision + 1,
        });
      },
      'groups:remove': (input) => {
        const group = asAdmin(input.groupId);
        if (!group.members.some((m) => m.accountId === input.accountId)) fail('INVALID_INPUT');
        return this.update(group.groupId, {
          members: group.members.filter((m) => m.accountId !== input.accountId),
          revision: group.revision + 1,
        });
      },
      'groups:make-admin': (input) => asAdmin(input.groupId),
      'groups:leave': (input) => {
        const group = find(input.groupId);
        if (group.standing !== 'member') fail('NOT_GROUP_MEMBER');
        return this.update(group.groupId, {
          standing: 'left',
          members: group.members.filter((m) => !m.self),
        });
      },
      'groups:rename': (input) => {
        const group = asAdmin(input.groupId);
        if (input.title.trim() === '') fail('INVALID_NAME');
        return this.update(group.groupId, { title: input.title, revision: group.revision + 1 });
      },
      'groups:messages': (input) => {
        find(input.groupId);
        const { before, after } = input;
        const inGroup = this.messages.filter((m) => m.groupId === input.groupId);
        if (after)
          return inGroup
            .filter(
              (m) => m.sentAt > after.sentAt || (m.sentAt === after.sentAt && m.id > after.id),
            )
            .sort((a, b) => a.sentAt - b.sentAt || a.id - b.id)
            .slice(0, input.limit);
        return inGroup
          .filter(
            (m) =>
              !before ||
              m.sentAt < before.sentAt ||
              (m.sentAt === before.sentAt && m.id < before.id),
          )
          .sort((a, b) => b.sentAt - a.sentAt || b.id - a.id)
          .slice(0, input.limit);
      },
      'groups:retry': (input) => {
        const index = this.messages.findIndex(
          (m) => m.id === input.messageId && m.outgoing && m.status === 'failed',
        );
        if (index < 0) fail('INVALID_INPUT');
        const queued: GroupMessage = { ...this.messages[index]!, status: 'queued' };
        this.messages[index] = queued;
        this.retried(input.messageId);
        return queued;
      },
      'groups:mute': (input) =>
        this.update(find(input.groupId).groupId, {
          mutedUntil: muteEnd(input.durationMs, Date.now()),
        }),
      'groups:unmute': (input) => this.update(find(input.groupId).groupId, { mutedUntil: null }),
      'groups:mark-read': (input) => {
        find(input.groupId);
        this.markedRead.push(input.groupId);
        this.update(input.groupId, { unreadCount: 0 });
        return {};
      },
      'groups:member-safety-number': (input) => {
        const member = find(input.groupId).members.find((m) => m.accountId === input.accountId);
        if (!member || member.self) fail('UNKNOWN_CONTACT');
        return {
          digits: '1234'.repeat(15),
          scannable: 'c2Nhbm5hYmxl',
          verified: this.verified.has(input.accountId),
        };
      },
      'groups:verify-member': (input) => {
        const member = find(input.groupId).members.find((m) => m.accountId === input.accountId);
        if (!member || member.self) fail('UNKNOWN_CONTACT');
        if (member.identityChanged) fail('IDENTITY_CHANGED');
        this.verified.add(input.accountId);
        return {};
      },
      'groups:send': (input) => {
        const group = find(input.groupId);
        if (group.standing !== 'member') fail('NOT_GROUP_MEMBER');
        if (group.members.some((m) => m.identityChanged)) fail('IDENTITY_CHANGED');
        const sentAt = Date.now();
        const message: GroupMessage = {
          id: this.nextId++,
          uuid: `g-${this.nextId}`,
          groupId: group.groupId,
          outgoing: true,
          senderAccount: fakeAccountId('ACCOUNT'),
          senderName: 'Me',
          sentAt,
          receivedAt: sentAt,
          body: input.body,
          status: 'queued',
          delivered: { count: 0, of: group.members.length - 1 },
        };
        this.messages.push(message);
        this.update(group.groupId, { lastMessageAt: sentAt, lastMessagePreview: input.body });
        return message;
      },
      'groups:deliveries': (input) => {
        const message = this.messages.find((m) => m.id === input.messageId && m.outgoing);
        if (!message) return []; // as the core: no rows for a message it does not know
        const group = find(message.groupId);
        return group.members
          .filter((m) => !m.self)
          .map((m, i) => ({
            accountId: m.accountId,
            name: m.name,
            deliveredAt: i < (message.delivered?.count ?? 0) ? message.sentAt + 1_000 : null,
          }));
      },
      'groups:accept-member': (input) => {
        const group = find(input.groupId);
        const members = group.members.map((m) =>
          m.accountId === input.accountId ? { ...m, identityChanged: false } : m,
        );
        return { ...this.update(group.groupId, { members }) };
      },
      'groups:search': (input) =>
        this.messages
          .filter((m) => m.body.includes(input.query))
          .slice(0, input.limit)
          .map((m) => ({ ...m, groupTitle: find(m.groupId).title })),
    };
  }

  private find(groupId: string): GroupSummary {
    const group = this.groups.find((g) => g.groupId === groupId);
    if (!group) throw new Error(`no fake group ${groupId}`);
    return group;
  }

  private self(admin: boolean): Member {
    return {
      accountId: fakeAccountId('ACCOUNT'),
      name: 'Me',
      admin,
      self: true,
      conversationId: null,
      identityChanged: false,
    };
  }

  private memberOf(conversationId: number): Member {
    const contact = this.contacts().find((c) => c.conversationId === conversationId);
    return {
      accountId: contact?.accountId ?? fakeAccountId(`ACC${conversationId}`),
      name: contact?.displayName ?? `Contact ${conversationId}`,
      admin: false,
      self: false,
      conversationId,
      identityChanged: contact?.trust === 'changed',
    };
  }
}
