// The sidebar's one list: 1:1 conversations and groups side by side, newest
// activity first (a group without messages counts from its last change).
import type { Conversation } from '../../shared/ipc/contract.ts';
import type { GroupSummary } from '../../shared/ipc/groups.ts';
import { groupActivity } from './stores/groups.ts';

/** One row of the conversation list. */
export type ConversationEntry =
  | { readonly kind: 'direct'; readonly key: string; readonly conversation: Conversation }
  | { readonly kind: 'group'; readonly key: string; readonly group: GroupSummary };

const activityOf = (entry: ConversationEntry): number =>
  entry.kind === 'direct'
    ? (entry.conversation.lastMessageAt ?? -Infinity)
    : groupActivity(entry.group);

// As byRecentActivity: the newer conversation first; then groups by id.
function tieBreak(a: ConversationEntry, b: ConversationEntry): number {
  if (a.kind === 'direct' && b.kind === 'direct') return b.conversation.id - a.conversation.id;
  if (a.kind !== b.kind) return a.kind === 'direct' ? -1 : 1;
  return a.key < b.key ? -1 : 1;
}

/** Both kinds, newest activity first; ties (and conversations never used) in a stable order. */
export function conversationEntries(
  conversations: readonly Conversation[],
  groups: readonly GroupSummary[],
): ConversationEntry[] {
  const entries: ConversationEntry[] = [
    ...conversations.map((c) => ({ kind: 'direct' as const, key: `c${c.id}`, conversation: c })),
    ...groups.map((g) => ({ kind: 'group' as const, key: `g${g.groupId}`, group: g })),
  ];
  return entries.sort((a, b) => activityOf(b) - activityOf(a) || tieBreak(a, b));
}
