import { z } from 'zod';
import type { InboundEvent } from '../../engine/types';
import type { GroupEvent } from '../../groups/GroupEvents';
import { formatZodIssues } from '../../errors';

/*
 * Only the parts of a Telegram `Update` (https://core.telegram.org/bots/api#update) this bot reads are checked;
 * everything else is kept as is (loose objects), so that new Bot API fields never make a valid update "malformed".
 */

const chatId = z.number().int();

const userSchema = z.looseObject({
  id: z.number().int(),
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});

const chatSchema = z.looseObject({
  id: chatId,
  type: z.string(),
});

const photoSizeSchema = z.looseObject({
  file_id: z.string().min(1),
  file_unique_id: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  file_size: z.number().optional(),
});

const messageSchema = z.looseObject({
  message_id: z.number().int().optional(),
  from: userSchema.optional(),
  chat: chatSchema,
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(photoSizeSchema).optional(),
  document: z.looseObject({ file_id: z.string().min(1), mime_type: z.string().optional() }).optional(),
  location: z.looseObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }).optional(),
  contact: z.looseObject({ phone_number: z.string(), first_name: z.string().optional(), last_name: z.string().optional(), user_id: z.number().optional() }).optional(),
});

const callbackQuerySchema = z.looseObject({
  id: z.string().min(1),
  from: userSchema,
  // Absent for buttons of inline-mode messages; "inaccessible" (date 0) for very old messages.
  message: z.looseObject({ message_id: z.number().int().optional(), chat: chatSchema }).optional(),
  data: z.string().optional(),
});

const chatMemberUpdatedSchema = z.looseObject({
  chat: chatSchema,
  from: userSchema.optional(),
  new_chat_member: z.looseObject({ status: z.string() }),
});

export const telegramUpdateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: messageSchema.optional(),
  callback_query: callbackQuerySchema.optional(),
  my_chat_member: chatMemberUpdatedSchema.optional(),
});

export type TelegramUpdate = z.infer<typeof telegramUpdateSchema>;
type TelegramMessage = z.infer<typeof messageSchema>;

/** What one update means to this bot. */
export type TelegramUpdateMeaning =
  /** A citizen in a private chat; `callbackQueryId` must be answered. */
  | { kind: 'citizen'; chatId: string; event: InboundEvent; callbackQueryId?: string }
  /** An official in a group chat (a reports inbox). */
  | { kind: 'group'; chatId: string; event: GroupEvent; callbackQueryId?: string }
  /** The bot was blocked/unblocked by a user, or removed from/added to a group. */
  | { kind: 'membership'; chatId: string; reachable: boolean; status: string }
  /** Nothing to do; a callback query without a usable chat is still answered. */
  | { kind: 'ignored'; reason: string; callbackQueryId?: string };

export type ParseUpdateResult = { ok: true; updateId: number; meaning: TelegramUpdateMeaning } | { ok: false; problems: string[] };

/** Statuses of `my_chat_member.new_chat_member` after which nothing can be sent to that chat. */
const GONE_STATUSES = new Set(['kicked', 'left']);
const PRIVATE = 'private';
const GROUPS = new Set(['group', 'supergroup']);
/** A callback_data the renderer made for an option whose id could not be used (see renderTelegramReplies). */
export const NUMBER_CALLBACK = /^#(\d{1,3})$/;

export function telegramEventId(updateId: number): string {
  return `tg:${updateId}`;
}

/**
 * Translates a Telegram update into the engine's event (private chats: citizens), a group event (group chats:
 * officials' inboxes), a reachability change, or nothing. Malformed input is a value with one line per problem.
 * `botUsername` (from getMe) lets group commands addressed to other bots (`/menu@OtherBot`) be ignored.
 */
export function parseTelegramUpdate(body: unknown, botUsername?: string): ParseUpdateResult {
  const parsed = telegramUpdateSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, problems: formatZodIssues(parsed.error.issues) };
  }
  const u = parsed.data;
  return { ok: true, updateId: u.update_id, meaning: meaningOf(u, botUsername) };
}

function meaningOf(u: TelegramUpdate, botUsername: string | undefined): TelegramUpdateMeaning {
  const eventId = telegramEventId(u.update_id);
  if (u.message) return meaningOfMessage(u.message, eventId, botUsername);
  if (u.callback_query) {
    const q = u.callback_query;
    const chat = q.message?.chat;
    // A private chat's id is the user's id, so a button of a message we can no longer see still has a chat.
    const chatType = chat?.type ?? PRIVATE;
    const id = String(chat?.id ?? q.from.id);
    if (q.data === undefined || q.data === '') return { kind: 'ignored', reason: 'callback query without data', callbackQueryId: q.id };
    if (chatType === PRIVATE) {
      const byNumber = NUMBER_CALLBACK.exec(q.data);
      const base = { channel: 'telegram' as const, userId: id, eventId };
      const event: InboundEvent = byNumber ? { ...base, kind: 'text', text: byNumber[1]! } : { ...base, kind: 'choice', optionId: q.data };
      return { kind: 'citizen', chatId: id, event, callbackQueryId: q.id };
    }
    if (GROUPS.has(chatType)) {
      return {
        kind: 'group',
        chatId: id,
        callbackQueryId: q.id,
        event: {
          channel: 'telegram',
          chatId: id,
          fromUserId: String(q.from.id),
          fromName: displayName(q.from),
          eventId,
          kind: 'button',
          data: q.data,
          ...(q.message?.message_id !== undefined ? { messageId: String(q.message.message_id) } : {}),
        },
      };
    }
    return { kind: 'ignored', reason: `callback query in a ${chatType} chat`, callbackQueryId: q.id };
  }
  if (u.my_chat_member) {
    const m = u.my_chat_member;
    const status = m.new_chat_member.status;
    return { kind: 'membership', chatId: String(m.chat.id), reachable: !GONE_STATUSES.has(status), status };
  }
  return { kind: 'ignored', reason: 'update kind not used' };
}

function meaningOfMessage(m: TelegramMessage, eventId: string, botUsername: string | undefined): TelegramUpdateMeaning {
  const chatId = String(m.chat.id);
  if (m.chat.type === PRIVATE) {
    const base = { channel: 'telegram' as const, userId: chatId, eventId };
    const event = citizenEventOf(m, base);
    return event ? { kind: 'citizen', chatId, event } : { kind: 'ignored', reason: 'message kind not used' };
  }
  if (GROUPS.has(m.chat.type)) {
    if (m.text === undefined || !m.from || m.from.is_bot) return { kind: 'ignored', reason: 'group message without text' };
    const text = commandForThisBot(m.text, botUsername);
    if (text === null) return { kind: 'ignored', reason: 'command for another bot' };
    return {
      kind: 'group',
      chatId,
      event: {
        channel: 'telegram',
        chatId,
        fromUserId: String(m.from.id),
        fromName: displayName(m.from),
        eventId,
        kind: 'text',
        text,
        ...(m.message_id !== undefined ? { messageId: String(m.message_id) } : {}),
      },
    };
  }
  return { kind: 'ignored', reason: `message in a ${m.chat.type} chat` };
}

const START = /^\/start(?:@\w+)?(?:\s+(\S.*))?$/s;

function citizenEventOf(m: TelegramMessage, base: { channel: 'telegram'; userId: string; eventId: string }): InboundEvent | null {
  if (m.text !== undefined) {
    const start = START.exec(m.text.trim());
    if (start) return { ...base, kind: 'start', ...(start[1] ? { payload: start[1].trim() } : {}) };
    // Other commands (/menu, /help, /language, "/menu@Bot") are understood by the engine as text.
    return { ...base, kind: 'text', text: m.text };
  }
  if (m.contact) {
    const name = [m.contact.first_name, m.contact.last_name].filter(Boolean).join(' ');
    return { ...base, kind: 'contact', phone: m.contact.phone_number, ...(name ? { name } : {}) };
  }
  if (m.location) return { ...base, kind: 'location', latitude: m.location.latitude, longitude: m.location.longitude };
  if (m.photo && m.photo.length > 0) {
    return { ...base, kind: 'photo', fileRef: largestPhoto(m.photo).file_id, ...(m.caption ? { caption: m.caption } : {}) };
  }
  // A picture sent "as a file" (uncompressed) is still a picture to the person who sent it.
  if (m.document && m.document.mime_type?.startsWith('image/')) {
    return { ...base, kind: 'photo', fileRef: m.document.file_id, ...(m.caption ? { caption: m.caption } : {}) };
  }
  if (m.voice && typeof (m.voice as { file_id?: unknown }).file_id === 'string') return { ...base, kind: 'voice', fileRef: (m.voice as { file_id: string }).file_id };
  // Stickers, audio files, videos...: answered like an unexpected answer (the question is asked again). Service
  // messages (pinned message, write access allowed, ...) were not written by the person and are ignored.
  if (PERSON_CONTENT.some((field) => field in m)) return { ...base, kind: 'text', text: m.caption ?? '' };
  return null;
}

/** Message fields that mean the person sent something this bot cannot read (https://core.telegram.org/bots/api#message). */
const PERSON_CONTENT = ['sticker', 'voice', 'audio', 'video', 'video_note', 'animation', 'document', 'dice', 'poll', 'story', 'paid_media'];

function largestPhoto(sizes: Array<z.infer<typeof photoSizeSchema>>): z.infer<typeof photoSizeSchema> {
  let best = sizes[0]!;
  for (const s of sizes) {
    const area = (s.width ?? 0) * (s.height ?? 0);
    const bestArea = (best.width ?? 0) * (best.height ?? 0);
    if (area > bestArea || (area === bestArea && (s.file_size ?? 0) > (best.file_size ?? 0))) best = s;
  }
  return best;
}

/**
 * In groups, `/cmd@ThisBot args` becomes `/cmd args`; a command addressed to another bot is not ours (null).
 * Without a known username, any `@name` suffix is dropped.
 */
function commandForThisBot(text: string, botUsername: string | undefined): string | null {
  const m = /^(\/[A-Za-z0-9_]+)@(\w+)(.*)$/s.exec(text);
  if (!m) return text;
  if (botUsername && m[2]!.toLowerCase() !== botUsername.toLowerCase()) return null;
  return `${m[1]}${m[3]}`;
}

function displayName(u: z.infer<typeof userSchema>): string {
  return [u.first_name, u.last_name].filter(Boolean).join(' ') || (u.username ? `@${u.username}` : String(u.id));
}
