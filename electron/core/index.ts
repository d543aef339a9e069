// The headless core's public surface: what electron/main, electron/cli and the
// tests may use. Everything else under electron/core is internal.
export { SottoError, hasCode } from './errors.ts';
export { Profile, type ProfileOptions } from './profile/profile.ts';
export { profilePaths } from './profile/paths.ts';
export type { KeychainAdapter } from './keys/keychain.ts';
export type { KeyProtection, UnlockWith } from './keys/database-key.ts';
export { DEFAULT_KDF_COST, type KdfCost } from './keys/passphrase.ts';
export {
  assertKdfCost,
  assertStrongPassphrase,
  KDF_FLOOR,
  kdfCostFromOptions,
} from './keys/passphrase-policy.ts';
export { normalizeDisplayName } from './profile/display-name.ts';
export type { IntegrityReport } from './db/integrity.ts';
export { SCHEMA_VERSION } from './db/migrate.ts';
export {
  addContact,
  findContact,
  getContact,
  listContacts,
  type Contact,
  type ContactCard,
} from './contacts/contacts.ts';
export { addContactFromInvite } from './contacts/invite.ts';
export { blockContact, unblockContact } from './contacts/block.ts';
export { markTokenRegistered, ownDeliveryToken, tokenToRegister } from './contacts/tokens.ts';
export {
  acceptIdentityChange,
  markVerified,
  safetyNumber,
  type SafetyNumber,
} from './crypto/trust.ts';
export { publishedKeys } from './crypto/prekeys.ts';
export { startSession, hasSession } from './messaging/session.ts';
export {
  bundleRequestsNeeded,
  encryptQueued,
  failedMessageIds,
  markSent,
  outboxSize,
  queueText,
  readyEnvelopes,
  recordRefusal,
  retryMessage,
  sealReady,
  type OutboxScope,
  type OutgoingEnvelope,
  type QueuedMessage,
  type ReadyEnvelope,
} from './messaging/outbox.ts';
export {
  processEnvelopes,
  MAX_ENVELOPE_ATTEMPTS,
  type EnvelopeOutcome,
  type FailureCode,
  type IncomingEnvelope,
} from './messaging/receive.ts';
export {
  getMessage,
  listConversations,
  markRead,
  messagesPage,
  searchMessages,
  type ConversationSummary,
  type HistoryMessage,
  type PageCursor,
} from './history/history.ts';
// Attachments (docs/message-format.md#attachments): compose, list, save, delete.
export { queueAttachmentMessage } from './attachments/compose.ts';
export type { OutgoingFile } from './attachments/outgoing-file.ts';
export { queueGroupAttachmentMessage } from './attachments/compose-group.ts';
export {
  attachmentsOf,
  type AttachmentSummary,
  saveAttachment,
} from './attachments/attachment-files.ts';
export {
  deleteMessages,
  type DeletedMessages,
  type DeleteScope,
} from './history/delete-messages.ts';
// Encrypted backups (docs/backup-format.md) and readable exports.
export { exportBackup, type ExportBackupOptions, type ExportReport } from './backup/export.ts';
export { verifyBackup, type VerifyBackupOptions, type VerifyReport } from './backup/verify.ts';
export { importBackup, type ImportBackupOptions, type ImportReport } from './backup/import.ts';
export {
  checkPassphraseStrength,
  generateRecoveryKey,
  normalizeRecoveryKey,
  MIN_PASSPHRASE_SCORE,
  type PassphraseStrength,
} from './backup/passphrase.ts';
export type { BackupProgress, BackupRunOptions } from './backup/progress.ts';
export type { BackupManifest } from './backup/format/records.ts';
export type { RecordCounts as BackupRecordCounts } from './backup/format/record-order.ts';
export {
  exportConversation,
  type ConversationExportReport,
  type ExportConversationOptions,
} from './backup/readable/export-conversation.ts';
export type { ReadableFormat } from './backup/readable/render.ts';
