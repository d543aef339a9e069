// What an OS notification for new messages says. Pure: index.ts shows it with
// Electron's Notification. Message text and the sender's name appear only while
// the app is unlocked; a locked app says only that something arrived.
import type { Message } from '../../shared/ipc/contract.ts';

export interface NotificationContent {
  readonly title: string;
  readonly body: string;
  /** The conversation to open on click (unlocked only). */
  readonly conversationId?: number;
}

export interface NotifyContext {
  readonly unlocked: boolean;
  /** The user's setting (settings.notifications). */
  readonly enabled: boolean;
  /** The window is focused: the user sees the message already. */
  readonly focused: boolean;
}

const BODY_MAX = 200;
/** What a locked app may say: no name, no text. */
export const LOCKED_NOTIFICATION: NotificationContent = { title: 'Sotto', body: 'New message' };

/** The notification for a stored message (`message:new`, sent only while unlocked), if any. */
export function notificationForMessage(message: Message, context: NotifyContext): NotificationContent | undefined {
  if (message.outgoing || !context.enabled || context.focused) return undefined;
  if (!context.unlocked) return LOCKED_NOTIFICATION;
  const body = message.body.length > BODY_MAX ? `${message.body.slice(0, BODY_MAX - 1)}…` : message.body;
  return { title: message.senderName ?? 'New message', body, conversationId: message.conversationId };
}

/**
 * The notification for a rise of the unread count while locked (the core sends
 * no message events then, only the content-free count), if any.
 */
export function notificationForUnread(unread: number, previous: number | undefined, context: NotifyContext): NotificationContent | undefined {
  if (context.unlocked || !context.enabled || context.focused) return undefined;
  if (previous === undefined || unread <= previous) return undefined;
  return LOCKED_NOTIFICATION;
}
