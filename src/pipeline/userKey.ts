import type { ChannelName } from '../engine/types';

/**
 * The key of a person's session, lease and event ids in the session store, and what their log tag is made from:
 * `<channel>:<id>`. Written here once so that every channel and service addresses the same session.
 */
export function userKey(who: { channel: ChannelName; userId: string }): string {
  return `${who.channel}:${who.userId}`;
}

/** The key under which a Telegram group's events are serialized and de-duplicated (a group has no conversation). */
export function groupKey(chatId: string): string {
  return `telegram-group:${chatId}`;
}
