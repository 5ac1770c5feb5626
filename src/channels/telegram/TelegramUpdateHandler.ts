import type { Api } from 'grammy';
import { userTag, type Logger } from '../../logger';
import type { EventPipeline } from '../../pipeline/EventPipeline';
import type { TelegramUpdateMeaning } from './parseTelegramUpdate';
import { acknowledgeAtCommit } from '../../pipeline/acknowledgeAtCommit';
import { userKey } from '../../pipeline/userKey';
import { deadline, describeTelegramError, REPLY_DEADLINE_MS } from './telegramApi';
import type { TelegramSender } from './TelegramSender';

/** Longest time an update's answer waits for its replies to be sent, once it is committed. */
export const REPLY_WAIT_MS = 1000;

export interface TelegramUpdateHandlerDeps {
  pipeline: EventPipeline;
  /** Sends the replies and keeps the chats' reachability marks. */
  sender: TelegramSender;
  log: Logger;
  /** Bot API client for answering button taps (bounded retries). */
  api: Api;
}

/**
 * Runs one parsed update through the update pipeline, for the webhook and for polling alike.
 *
 * `handle` resolves once the update is committed and its replies sent (at most `REPLY_WAIT_MS` after the commit),
 * or found to be a duplicate, or ignored; it rejects when the update could not be committed, so that the caller
 * answers 5xx and Telegram redelivers. The replies are sent after the commit while the chat's lease is still held,
 * so replies of two updates never interleave, even when sending outlasts the webhook's answer.
 */
export class TelegramUpdateHandler {
  /** The bot's username (from getMe), to tell group commands for this bot from those for other bots. */
  botUsername: string | undefined;

  constructor(private readonly deps: TelegramUpdateHandlerDeps) {}

  async handle(updateId: number, meaning: TelegramUpdateMeaning): Promise<void> {
    switch (meaning.kind) {
      case 'citizen':
        return this.untilCommitted(updateId, (committed) => this.handleCitizen(meaning, committed));
      case 'group':
        return this.untilCommitted(updateId, (committed) => this.handleGroup(meaning, committed));
      case 'membership':
        return this.handleMembership(meaning);
      case 'ignored':
        if (meaning.callbackQueryId) void this.answerCallback(meaning.callbackQueryId, updateId);
        this.deps.log.debug({ channel: 'telegram', eventId: `tg:${updateId}`, reason: meaning.reason }, 'update ignored');
        return;
      default: {
        const unreachable: never = meaning;
        throw new Error(`TelegramUpdateHandler: unknown meaning ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Resolves at the commit (holding at most `REPLY_WAIT_MS` for the replies), rejects when not committed. */
  private untilCommitted(updateId: number, run: (committed: () => void) => Promise<unknown>): Promise<void> {
    return acknowledgeAtCommit(run, REPLY_WAIT_MS, (err) =>
      this.deps.log.error({ channel: 'telegram', eventId: `tg:${updateId}`, err: describeTelegramError(err) }, 'update committed, but handling its replies failed'),
    );
  }

  private async handleCitizen(m: Extract<TelegramUpdateMeaning, { kind: 'citizen' }>, committed: () => void): Promise<void> {
    const { event, chatId, callbackQueryId } = m;
    if (event.kind === 'start') {
      // Someone who comes back (after blocking the bot, a 403, ...) can be reached again.
      await this.deps.sender.markBack(chatId);
    }
    const outcome = await this.deps.pipeline.handle(event, async (replies) => {
      committed();
      await Promise.all([
        callbackQueryId ? this.answerCallback(callbackQueryId, event.eventId) : Promise.resolve(),
        this.deps.sender.reply(chatId, replies, event.eventId),
      ]);
    });
    // A redelivered button tap was answered the first time, unless that answer was lost: answering again is harmless.
    if (outcome.status === 'duplicate' && callbackQueryId) await this.answerCallback(callbackQueryId, event.eventId);
  }

  private async handleGroup(m: Extract<TelegramUpdateMeaning, { kind: 'group' }>, committed: () => void): Promise<void> {
    const { event, chatId, callbackQueryId } = m;
    const outcome = await this.deps.pipeline.handleGroup(event, async (value) => {
      committed();
      await Promise.all([
        callbackQueryId ? this.answerCallback(callbackQueryId, event.eventId, value?.toast) : Promise.resolve(),
        this.deps.sender.reply(chatId, value?.replies ?? [], event.eventId),
      ]);
    });
    if (outcome.status === 'duplicate' && callbackQueryId) await this.answerCallback(callbackQueryId, event.eventId);
  }

  private async handleMembership(m: Extract<TelegramUpdateMeaning, { kind: 'membership' }>): Promise<void> {
    if (m.reachable) {
      await this.deps.sender.markBack(m.chatId);
      this.deps.log.info({ channel: 'telegram', user: userTag(userKey({ channel: 'telegram', userId: m.chatId })), status: m.status }, 'chat can be reached again');
    } else {
      await this.deps.sender.markGone(m.chatId, `my_chat_member: ${m.status}`);
    }
  }

  /** Stops the button's spinner (and shows a toast). Never throws: an unanswered query only spins a while. */
  private async answerCallback(id: string, eventId: string | number, toast?: string): Promise<void> {
    try {
      await this.deps.api.answerCallbackQuery(id, toast ? { text: toast.slice(0, 200) } : {}, deadline(REPLY_DEADLINE_MS));
    } catch (err) {
      this.deps.log.debug({ channel: 'telegram', eventId: String(eventId), err: describeTelegramError(err) }, 'callback query could not be answered');
    }
  }
}
