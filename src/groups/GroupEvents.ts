import type { ChannelName, Reply, Session } from '../engine/types';

/**
 * Events from officials' group chats (Telegram groups are the officials' inboxes): commands such as `/thongbao`,
 * texts, and taps on buttons of notices ("Tiếp nhận", "Đã xử lý"). Channel adapters translate platform updates into
 * these, de-duplicate and serialize them per chat like citizen events, and offer them to the registered handlers.
 */
export interface GroupEvent {
  channel: ChannelName;
  /** The group chat's id. */
  chatId: string;
  /** The official who wrote or tapped (platform user id) and the name they show. */
  fromUserId: string;
  fromName: string;
  eventId: string;
  kind: 'text' | 'button';
  /** For `text`: the message text (commands included, e.g. "/thongbao"). */
  text?: string;
  /** For `button`: the button's data. */
  data?: string;
  /** The platform id of the message the button belongs to (to edit it after a status change). */
  messageId?: string;
}

export interface GroupEventResult {
  /** Sent to the group. */
  replies: Reply[];
  /** Short notice shown to the official who tapped a button (Telegram's answerCallbackQuery text). */
  toast?: string;
}

/**
 * The group chat's conversation state, stored like a person's session (serialized and saved by the pipeline): a
 * handler that runs a flow in the group (the `/thongbao` announcement) reads it and replaces it.
 */
export interface GroupChat {
  session: Session;
}

/** Returns null when the event is not for this handler; the pipeline then offers it to the next one. */
export type GroupEventHandler = (event: GroupEvent, chat: GroupChat) => Promise<GroupEventResult | null>;

export class GroupEvents {
  private readonly handlers: GroupEventHandler[] = [];

  register(handler: GroupEventHandler): void {
    this.handlers.push(handler);
  }

  async handle(event: GroupEvent, chat: GroupChat): Promise<GroupEventResult | null> {
    for (const handler of this.handlers) {
      const result = await handler(event, chat);
      if (result) return result;
    }
    return null;
  }
}
