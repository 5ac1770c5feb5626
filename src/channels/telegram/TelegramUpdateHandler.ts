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
 * How a button tap's `answerCallbackQuery` goes out: as a Bot API request (polling), or carried in the webhook's
 * HTTP answer (https://core.telegram.org/bots/api#making-requests-when-getting-updates: one method per answer, its
 * result unknown), which saves a request per tap and loses nothing: an unanswered tap only spins a while.
 */
export type TapAnswering = 'request' | 'webhook-reply';

/** `answerCallbackQuery` as the webhook's answer carries it. */
export interface TapAnswer {
  method: 'answerCallbackQuery';
  callback_query_id: string;
  text?: string;
}

/** Telegram's limit on a callback answer's text. */
const TOAST_MAX = 200;

type AnswerTap = (id: string, eventId: string, toast?: string) => Promise<void>;

/**
 * Runs one parsed update through the update pipeline, for the webhook and for polling alike.
 *
 * `handle` resolves once the update is committed and its replies sent (at most `REPLY_WAIT_MS` after the commit),
 * or found to be a duplicate, or ignored; it rejects when the update could not be committed, so that the caller
 * answers 5xx and Telegram redelivers. The replies are sent after the commit while the chat's lease is still held,
 * so replies of two updates never interleave, even when sending outlasts the webhook's answer.
 *
 * With `webhook-reply`, a button tap is answered by no request: `handle` resolves with the `answerCallbackQuery` for
 * the webhook's HTTP answer to carry, with the text a request would have sent (a group handler's toast, known at the
 * commit; none for a citizen's tap, a redelivered tap or an ignored one). With `request` (polling) it resolves empty.
 */
export class TelegramUpdateHandler {
  /** The bot's username (from getMe), to tell group commands for this bot from those for other bots. */
  botUsername: string | undefined;

  constructor(private readonly deps: TelegramUpdateHandlerDeps) {}

  async handle(updateId: number, meaning: TelegramUpdateMeaning, answering: TapAnswering = 'request'): Promise<TapAnswer | undefined> {
    let carried: TapAnswer | undefined;
    let answered = false;
    // Until `handle` resolves, a tap's answer can still ride on the webhook's answer; after (never expected: the
    // answer is decided at the commit or on a duplicate, both before), it goes out as a request rather than be lost.
    const answerTap: AnswerTap = (id, eventId, toast) => {
      if (answering === 'request' || answered) return this.answerCallback(id, eventId, toast);
      carried = { method: 'answerCallbackQuery', callback_query_id: id, ...(toast ? { text: toast.slice(0, TOAST_MAX) } : {}) };
      return Promise.resolve();
    };
    try {
      switch (meaning.kind) {
        case 'citizen':
          await this.untilCommitted(updateId, (committed) => this.handleCitizen(meaning, committed, answerTap));
          return carried;
        case 'group':
          await this.untilCommitted(updateId, (committed) => this.handleGroup(meaning, committed, answerTap));
          return carried;
        case 'membership':
          await this.handleMembership(meaning);
          return undefined;
        case 'ignored':
          if (meaning.callbackQueryId) void answerTap(meaning.callbackQueryId, `tg:${updateId}`);
          this.deps.log.debug({ channel: 'telegram', eventId: `tg:${updateId}`, reason: meaning.reason }, 'update ignored');
          return carried;
        default: {
          const unreachable: never = meaning;
          throw new Error(`TelegramUpdateHandler: unknown meaning ${JSON.stringify(unreachable)}`);
        }
      }
    } finally {
      answered = true;
    }
  }

  /** Resolves at the commit (holding at most `REPLY_WAIT_MS` for the replies), rejects when not committed. */
  private untilCommitted(updateId: number, run: (committed: () => void) => Promise<unknown>): Promise<void> {
    return acknowledgeAtCommit(run, REPLY_WAIT_MS, (err) =>
      this.deps.log.error({ channel: 'telegram', eventId: `tg:${updateId}`, err: describeTelegramError(err) }, 'update committed, but handling its replies failed'),
    );
  }

  private async handleCitizen(m: Extract<TelegramUpdateMeaning, { kind: 'citizen' }>, committed: () => void, answerTap: AnswerTap): Promise<void> {
    const { event, chatId, callbackQueryId } = m;
    if (event.kind === 'start') {
      // Someone who comes back (after blocking the bot, a 403, ...) can be reached again.
      await this.deps.sender.markBack(chatId);
    }
    const outcome = await this.deps.pipeline.handle(event, async (replies) => {
      // The tap's answer is decided before the webhook may be answered (`committed`).
      const tapAnswered = callbackQueryId ? answerTap(callbackQueryId, event.eventId) : undefined;
      committed();
      await Promise.all([tapAnswered, this.deps.sender.reply(chatId, replies, event.eventId)]);
    });
    // A redelivered button tap was answered the first time, unless that answer was lost: answering again is harmless.
    if (outcome.status === 'duplicate' && callbackQueryId) await answerTap(callbackQueryId, event.eventId);
  }

  private async handleGroup(m: Extract<TelegramUpdateMeaning, { kind: 'group' }>, committed: () => void, answerTap: AnswerTap): Promise<void> {
    const { event, chatId, callbackQueryId } = m;
    const outcome = await this.deps.pipeline.handleGroup(event, async (value) => {
      const tapAnswered = callbackQueryId ? answerTap(callbackQueryId, event.eventId, value?.toast) : undefined;
      committed();
      await Promise.all([tapAnswered, this.deps.sender.reply(chatId, value?.replies ?? [], event.eventId)]);
    });
    if (outcome.status === 'duplicate' && callbackQueryId) await answerTap(callbackQueryId, event.eventId);
  }

  private async handleMembership(m: Extract<TelegramUpdateMeaning, { kind: 'membership' }>): Promise<void> {
    if (m.reachable) {
      await this.deps.sender.markBack(m.chatId);
      this.deps.log.info({ channel: 'telegram', user: userTag(userKey({ channel: 'telegram', userId: m.chatId })), status: m.status }, 'chat can be reached again');
    } else {
      await this.deps.sender.markGone(m.chatId, `my_chat_member: ${m.status}`);
    }
  }

  /** Stops the button's spinner (and shows a toast) by a request. Never throws: an unanswered query only spins a while. */
  private async answerCallback(id: string, eventId: string, toast?: string): Promise<void> {
    try {
      await this.deps.api.answerCallbackQuery(id, toast ? { text: toast.slice(0, TOAST_MAX) } : {}, deadline(REPLY_DEADLINE_MS));
    } catch (err) {
      this.deps.log.debug({ channel: 'telegram', eventId, err: describeTelegramError(err) }, 'callback query could not be answered');
    }
  }
}
