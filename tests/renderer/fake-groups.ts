import type { MethodInput, MethodName, MethodOutput } from '../../shared/ipc/contract.ts';
import type { GroupSummary } from '../../shared/ipc/groups.ts';
import { fakeAccountId } from './fake-bridge.ts';

// The `groups:*` methods of the renderer's fake bridge: an in-memory list of
// groups, enough for a future group UI's component tests (no messages yet).

type GroupMethod = Extract<MethodName, `groups:${string}`>;

/** Fake `groups:*` handlers over `groups`; `fail` throws the bridge's coded error. */
export function fakeGroupHandlers(
  groups: GroupSummary[],
  fail: (code: 'UNKNOWN_GROUP') => never,
): { [M in GroupMethod]: (input: MethodInput<M>) => MethodOutput<M> } {
  const find = (groupId: string) =>
    groups.find((g) => g.groupId === groupId) ?? fail('UNKNOWN_GROUP');
  return {
    'groups:list': () => groups,
    'groups:get': (input) => find(input.groupId),
    'groups:create': (input) => {
      const group: GroupSummary = {
        groupId: `${String(groups.length + 1).padStart(43, 'A')}=`,
        title: input.title,
        revision: 0,
        standing: 'member',
        members: [{ accountId: fakeAccountId('SELF'), name: 'Me', admin: true, self: true }],
      };
      groups.push(group);
      return group;
    },
    'groups:add': (input) => find(input.groupId),
    'groups:remove': (input) => find(input.groupId),
    'groups:make-admin': (input) => find(input.groupId),
    'groups:leave': (input) => ({ ...find(input.groupId), standing: 'left' }),
    'groups:rename': (input) => {
      const group = find(input.groupId);
      group.title = input.title;
      return group;
    },
    'groups:messages': () => [],
    'groups:send': () => fail('UNKNOWN_GROUP'),
    'groups:deliveries': () => [],
  };
}
