// Group conversations with sender keys (docs/architecture.md#groups): the
// part of electron/core that the CLI, the service and the tests use.
export {
  addMember,
  createGroup,
  leaveGroup,
  makeAdmin,
  removeMember,
  renameGroup,
} from './group-ops.ts';
export {
  distributeSenderKeys,
  encryptGroupQueued,
  queueGroupText,
  type QueuedGroupMessage,
} from './group-queue.ts';
export {
  findGroup,
  groupMessageById,
  groupMessagesAfter,
  groupMessagesPage,
  type GroupPageCursor,
  memberDeliveries,
  type GroupHistoryMessage,
  type MemberDelivery,
} from './group-history.ts';
export { listGroups, loadGroup, updateRefusals, type StoredGroup } from './group-store.ts';
export { acceptMemberChange } from './member-identity.ts';
export { groupUnread, markGroupRead, totalGroupUnread } from './group-read.ts';
