import type { ErrorCode } from '../../shared/errors.ts';

/** The `sotto` CLI's exit codes (documented in `sotto --help` and the README). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  UNLOCK: 3,
  PROFILE: 4,
  RELAY: 5,
  CONTACT: 6,
  BACKUP: 7,
  ATTACHMENT: 8,
} as const;

/** The exit code for a SottoError code. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'WRONG_PASSPHRASE':
    case 'WRONG_BACKUP_PASSPHRASE':
    case 'PASSPHRASE_REQUIRED':
    case 'KEYCHAIN_UNAVAILABLE':
      return EXIT.UNLOCK;
    case 'KEYFILE_CORRUPT':
    case 'PROFILE_LOCKED':
    case 'PROFILE_TOO_NEW':
    case 'PROFILE_NOT_FOUND':
    case 'PROFILE_EXISTS':
    case 'DB_CORRUPT':
    case 'NOT_CONFIGURED':
      return EXIT.PROFILE;
    case 'INSECURE_RELAY':
    case 'RELAY_ADDRESS_REFUSED':
      return EXIT.USAGE;
    case 'RELAY_UNAVAILABLE':
    case 'RELAY_REFUSED':
      return EXIT.RELAY;
    case 'IDENTITY_CHANGED':
    case 'IDENTITY_MISMATCH':
    case 'UNKNOWN_CONTACT':
    case 'INVALID_INVITE':
    case 'INVITE_OUTDATED':
    case 'CONTACT_BLOCKED':
    case 'UNKNOWN_GROUP':
    case 'NOT_GROUP_ADMIN':
    case 'NOT_GROUP_MEMBER':
      return EXIT.CONTACT;
    case 'BACKUP_TAMPERED':
    case 'BACKUP_TRUNCATED':
    case 'BACKUP_TRAILING_DATA':
    case 'BACKUP_UNSUPPORTED_VERSION':
    case 'BACKUP_WRONG_ACCOUNT':
      return EXIT.BACKUP;
    case 'INVALID_INPUT':
    case 'WEAK_PASSPHRASE':
    case 'MESSAGE_TOO_LONG':
    case 'INVALID_NAME':
    case 'GROUP_TOO_LARGE':
    case 'ATTACHMENT_TOO_LARGE':
    case 'UNKNOWN_MESSAGE':
      return EXIT.USAGE;
    case 'ATTACHMENT_TAMPERED':
    case 'ATTACHMENT_NOT_FOUND':
    case 'UNKNOWN_ATTACHMENT':
    case 'ATTACHMENT_PICK_EXPIRED': // the app's Attach button only; listed for exhaustiveness
    case 'UNKNOWN_SEND': // the app's Cancel of a send only
      return EXIT.ATTACHMENT;
    case 'APP_LOCKED':
    case 'NO_PROFILE':
    case 'CANCELLED':
    case 'INTERNAL':
      return EXIT.FAILURE;
  }
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  unexpected failure
  2  usage error or invalid input (INVALID_INPUT, WEAK_PASSPHRASE, MESSAGE_TOO_LONG, INVALID_NAME,
     INSECURE_RELAY, RELAY_ADDRESS_REFUSED, GROUP_TOO_LARGE, ATTACHMENT_TOO_LARGE, UNKNOWN_MESSAGE)
  3  could not unlock the profile or the backup (WRONG_PASSPHRASE, WRONG_BACKUP_PASSPHRASE, PASSPHRASE_REQUIRED,
     KEYCHAIN_UNAVAILABLE)
  4  profile problem (PROFILE_LOCKED, PROFILE_NOT_FOUND, PROFILE_EXISTS, PROFILE_TOO_NEW, KEYFILE_CORRUPT, DB_CORRUPT, NOT_CONFIGURED)
  5  relay problem (RELAY_UNAVAILABLE, RELAY_REFUSED)
  6  contact or trust problem (UNKNOWN_CONTACT, IDENTITY_CHANGED, IDENTITY_MISMATCH, INVALID_INVITE,
     INVITE_OUTDATED, CONTACT_BLOCKED, UNKNOWN_GROUP, NOT_GROUP_ADMIN, NOT_GROUP_MEMBER)
  7  backup file problem (BACKUP_TAMPERED, BACKUP_TRUNCATED, BACKUP_TRAILING_DATA, BACKUP_UNSUPPORTED_VERSION, BACKUP_WRONG_ACCOUNT)
  8  attachment problem (ATTACHMENT_TAMPERED, ATTACHMENT_NOT_FOUND, UNKNOWN_ATTACHMENT)`;
