// What an OS notification for new messages says. Pure: index.ts shows it with
// Electron's Notification. A notification leaves the encrypted database (the
// OS notification centre keeps its history), so it says only what the user
// chose in `notificationContent` (default: the sender's name), and a locked
// app says only that something arrived (docs/threat-model.md#notifications).
// A muted conversation or group (the core marks its events `muted`) raises none.
import type { EventPayload, Message, Settings } from '../../shared/ipc/contract.ts';

export interface NotificationContent {
  readonly title: string;
  readonly body: string;
  /** The conversation to open on click (unlocked only). */
  readonly conversationId?: number;
  /** The group to open on click (unlocked only). */
  readonly groupId?: string;
}

export type NotificationChoice = Settings['notificationContent'];

export interface NotifyContext {
  readonly unlocked: boolean;
  /** The user's setting (settings.notifications). */
  readonly enabled: boolean;
  /** What a notification may show (settings.notificationContent). */
  readonly content: NotificationChoice;
  /** The window is focused: the user sees the message already. */
  readonly focused: boolean;
}

const BODY_MAX = 200;
/** Longest title shown: a sender's name as the core accepts names (MAX_NAME_CHARS). */
const TITLE_MAX = 128;

/**
 * A contact's name as a notification title. Names arrive inside their
 * messages, so a hostile contact may send line breaks, other control or
 * bidi-override characters to fake a second line or reorder the text: those
 * become spaces, and the title is capped.
 */
export function notificationTitle(name: string | null, fallback: string): string {
  const cleaned = (name ?? '')
    .replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu, ' ')
    .trim();
  if (cleaned === '') return fallback;
  return cleaned.length > TITLE_MAX ? `${cleaned.slice(0, TITLE_MAX - 1)}…` : cleaned;
}
/** What a locked app (or the 'nothing' choice) may say: no name, no text. */
export const LOCKED_NOTIFICATION: NotificationContent = { title: 'Sotto', body: 'New message' };

/** The notification for a stored message (`message:new`, sent only while unlocked), if any. */
export function notificationForMessage(
  message: Message & { readonly muted?: boolean },
  context: NotifyContext,
): NotificationContent | undefined {
  if (message.outgoing || message.muted || !context.enabled || context.focused) return undefined;
  if (!context.unlocked) return LOCKED_NOTIFICATION;
  const conversationId = message.conversationId;
  switch (context.content) {
    case 'nothing':
      return { ...LOCKED_NOTIFICATION, conversationId };
    case 'name':
      return {
        title: notificationTitle(message.senderName, LOCKED_NOTIFICATION.title),
        body: LOCKED_NOTIFICATION.body,
        conversationId,
      };
    case 'name-and-text':
      return {
        title: notificationTitle(message.senderName, LOCKED_NOTIFICATION.body),
        body: capped(message.body),
        conversationId,
      };
  }
}

function capped(body: string): string {
  return body.length > BODY_MAX ? `${body.slice(0, BODY_MAX - 1)}…` : body;
}

/**
 * The notification for a received group message (`group:message`), if any:
 * titled by the group, with the sender's name ('name') or name and text
 * ('name-and-text'). 'nothing' shows neither the group's title nor the
 * sender: both are names the user chose to keep out of the OS.
 */
export function notificationForGroupMessage(
  message: EventPayload<'group:message'>,
  context: NotifyContext,
): NotificationContent | undefined {
  if (message.outgoing || message.muted || !context.enabled || context.focused) return undefined;
  if (!context.unlocked) return LOCKED_NOTIFICATION;
  const groupId = message.groupId;
  if (context.content === 'nothing') return { ...LOCKED_NOTIFICATION, groupId };
  const title = notificationTitle(message.groupTitle, LOCKED_NOTIFICATION.title);
  const sender = notificationTitle(message.senderName, 'Member');
  const body =
    context.content === 'name'
      ? `${LOCKED_NOTIFICATION.body} from ${sender}`
      : `${sender}: ${capped(message.body)}`;
  return { title, body, groupId };
}

/**
 * The notification for a rise of the unread count while locked (the core sends
 * no message events then, only the content-free count), if any.
 */
export function notificationForUnread(
  unread: number,
  previous: number | undefined,
  context: NotifyContext,
): NotificationContent | undefined {
  if (context.unlocked || !context.enabled || context.focused) return undefined;
  if (previous === undefined || unread <= previous) return undefined;
  return LOCKED_NOTIFICATION;
}
