/**
 * The closed set of error codes a user (or a script) can meet, with the sentence
 * shown for each. Codes are stable API: the CLI prints them, the IPC contract
 * carries them, tests assert them. Never put user content in an error.
 */
export const ERROR_MESSAGES = {
  WRONG_PASSPHRASE: 'the passphrase does not unlock this profile',
  PASSPHRASE_REQUIRED: 'this profile needs a passphrase (no secure OS keychain is available)',
  KEYCHAIN_UNAVAILABLE: 'the OS keychain could not unlock this profile',
  KEYFILE_CORRUPT: 'the key file is damaged or not a Sotto key file',
  PROFILE_LOCKED: 'the profile is open in another Sotto process',
  PROFILE_TOO_NEW: 'the profile was written by a newer version of Sotto',
  PROFILE_NOT_FOUND: 'no Sotto profile exists in that directory',
  PROFILE_EXISTS: 'a Sotto profile already exists in that directory',
  DB_CORRUPT: 'the profile database is damaged',
  IDENTITY_CHANGED: "the contact's safety number changed; accept it before sending",
  IDENTITY_MISMATCH: 'the identity key does not belong to that account id',
  UNKNOWN_CONTACT: 'no such contact',
  INVALID_INPUT: 'the input is malformed',
  INVALID_INVITE: 'that is not a valid Sotto invite',
  INVITE_OUTDATED: 'that invite was made by an older version of Sotto; ask for a new invite',
  RELAY_ADDRESS_REFUSED:
    'that relay address is not allowed (use wss://, ws:// on this machine, or your own relay folder)',
  INSECURE_RELAY:
    'that relay address uses unencrypted ws:// to another machine; allow it explicitly',
  MESSAGE_TOO_LONG: 'the message is too long to send',
  INVALID_NAME: 'a display name is 1 to 128 characters, without control characters',
  CONTACT_BLOCKED: 'that contact is blocked',
  NOT_CONFIGURED: 'this profile has no relay configured',
  RELAY_UNAVAILABLE: 'the relay cannot be reached',
  RELAY_REFUSED: 'the relay refused the request',
  APP_LOCKED: 'Sotto is locked; unlock it first',
  NO_PROFILE: 'no profile is open',
  WEAK_PASSPHRASE: 'the passphrase is too easy to guess',
  WRONG_BACKUP_PASSPHRASE: 'the passphrase does not unlock this backup',
  BACKUP_TAMPERED: 'the backup file was altered or damaged',
  BACKUP_TRUNCATED: 'the backup file is incomplete',
  BACKUP_TRAILING_DATA: 'the backup file has extra data after its end',
  BACKUP_UNSUPPORTED_VERSION:
    'the backup was written in a format this version of Sotto cannot read',
  BACKUP_WRONG_ACCOUNT: 'the backup belongs to a different account than this profile',
  UNKNOWN_GROUP: 'no such group',
  NOT_GROUP_ADMIN: 'only an admin of the group can do that',
  NOT_GROUP_MEMBER: 'you are no longer a member of that group',
  GROUP_TOO_LARGE: 'a group has at most 1,000 members',
  ATTACHMENT_TAMPERED: 'the attachment was altered or damaged; it was not saved',
  ATTACHMENT_TOO_LARGE: 'the attachment is larger than allowed',
  ATTACHMENT_NOT_FOUND: 'the attachment is no longer on the relay',
  UNKNOWN_ATTACHMENT: 'no such attachment',
  UNKNOWN_MESSAGE: 'no such message in this conversation',
  ATTACHMENT_PICK_EXPIRED: 'the picked file is no longer available; pick it again',
  UNKNOWN_SEND: 'no such send in this window',
  CANCELLED: 'the operation was cancelled',
  INTERNAL: 'something went wrong inside Sotto',
} as const;

/** A stable, user-facing error code. */
export type ErrorCode = keyof typeof ERROR_MESSAGES;

/** True if `value` is one of the known error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_MESSAGES, value);
}
