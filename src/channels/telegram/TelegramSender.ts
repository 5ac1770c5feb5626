import { GrammyError, type Api } from 'grammy';
import type { Reply } from '../../engine/types';
import { userTag, type Logger } from '../../logger';
import { ContentRefusedError, RateLimitedError, RecipientUnreachableError, type ChannelSender, type SendOptions, type SendReceipt } from '../../outbound/Outbound';
import { userKey } from '../../pipeline/userKey';
import type { Reachability } from '../../users/Reachability';
import { renderTelegramReplies, type RenderWarning } from './renderTelegramReplies';
import { deadline, PUSH_DEADLINE_MS, REPLY_DEADLINE_MS, sendTelegramCalls, unreachableReason, type TelegramPictures } from './telegramApi';

/** One broadcast message may take this long, network included, before it counts as failed (and is retried). */
const BULK_DEADLINE_MS = 30_000;

export interface TelegramSenderDeps {
  /** Replies inside a conversation (bounded retries within the reply deadline). */
  replyApi: Api;
  /** Notices and messages outside a conversation (auto-retry). */
  pushApi: Api;
  /** Without auto-retry: broadcasts are paced by the caller, who must hear about a 429 at once. */
  bulkApi: Api;
  reachability: Reachability;
  log: Logger;
  /** Guidance pictures: uploaded once, then sent by file id (one cache for replies and pushes). */
  pictures?: TelegramPictures;
}

/**
 * Sends to Telegram chats: the replies of a conversation (`reply`), notices and broadcasts (`send`, refused without
 * calling Telegram while the chat is marked unreachable). The one owner of Telegram's reachability marks: a chat
 * that blocked the bot (403) or removed it is marked unreachable; `/start` or being added back clears the mark.
 */
export class TelegramSender implements ChannelSender {
  readonly channel = 'telegram' as const;
  constructor(private readonly deps: TelegramSenderDeps) {}

  async send(userId: string, replies: Reply[], options: SendOptions = {}): Promise<SendReceipt> {
    if (!(await this.deps.reachability.isReachable('telegram', userId))) {
      throw new RecipientUnreachableError('telegram', 'the chat blocked the bot or removed it; nothing is sent until it comes back');
    }
    try {
      const api = options.bulk ? this.deps.bulkApi : this.deps.pushApi;
      return { messageIds: await sendTelegramCalls(api, userId, renderTelegramReplies(replies), deadline(options.bulk ? BULK_DEADLINE_MS : PUSH_DEADLINE_MS), this.deps.pictures) };
    } catch (err) {
      if (options.bulk && err instanceof GrammyError && err.error_code === 429) {
        throw new RateLimitedError('telegram', (err.parameters.retry_after ?? 1) * 1000);
      }
      const reason = unreachableReason(err);
      if (reason === null) {
        // Any other 400 is about the message itself (a photo Telegram cannot fetch, ...): the same again fails again.
        if (err instanceof GrammyError && err.error_code === 400) throw new ContentRefusedError('telegram', err.description);
        throw err;
      }
      await this.markGone(userId, reason);
      throw new RecipientUnreachableError('telegram', reason);
    }
  }

  /** Sends a conversation's replies within the reply deadline; a chat that blocked the bot is marked unreachable. */
  async reply(chatId: string, replies: Reply[], eventId: string): Promise<void> {
    if (replies.length === 0) return;
    const warnings: RenderWarning[] = [];
    const calls = renderTelegramReplies(replies, warnings);
    for (const w of warnings) this.deps.log.warn({ channel: 'telegram', eventId, problem: w.problem, detail: w.detail }, 'a reply could not be rendered exactly');
    try {
      await sendTelegramCalls(this.deps.replyApi, chatId, calls, deadline(REPLY_DEADLINE_MS), this.deps.pictures);
    } catch (err) {
      const reason = unreachableReason(err);
      if (reason === null) throw err;
      await this.markGone(chatId, reason, eventId);
    }
  }

  /** The chat can be messaged again (`/start`, the bot added back): what waited for it goes out. */
  markBack(chatId: string): Promise<void> {
    return this.deps.reachability.markReachable('telegram', chatId);
  }

  /** The chat blocked the bot or removed it: nothing is sent to it until it comes back. */
  async markGone(chatId: string, reason: string, eventId?: string): Promise<void> {
    await this.deps.reachability.markUnreachable('telegram', chatId, reason);
    this.deps.log.info({ channel: 'telegram', ...(eventId ? { eventId } : {}), user: userTag(userKey({ channel: 'telegram', userId: chatId })), reason }, 'chat cannot be reached: marked unreachable');
  }

  /**
   * Edits sent messages to `text` and removes their buttons; a photo (no text to edit) gets the text as its caption.
   * Messages that no longer exist, or already say it, count as done.
   */
  async redact(chatId: string, messageIds: string[], text: string): Promise<void> {
    for (const id of messageIds) {
      const messageId = Number(id);
      const signal = deadline(PUSH_DEADLINE_MS);
      try {
        await this.deps.pushApi.editMessageText(chatId, messageId, text, { reply_markup: { inline_keyboard: [] } }, signal);
      } catch (err) {
        if (!(err instanceof GrammyError) || err.error_code !== 400) throw err;
        if (/no text in the message/i.test(err.description)) {
          await this.deps.pushApi.editMessageCaption(chatId, messageId, { caption: text }, signal).catch((e: unknown) => {
            if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
          });
        }
        // "message is not modified", "message to edit not found": nothing left to redact.
      }
    }
  }
}

