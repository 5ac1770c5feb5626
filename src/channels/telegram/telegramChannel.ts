import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from 'express';
import { GrammyError } from 'grammy';
import { TELEGRAM_WEBHOOK_PATH, type TelegramConfig } from '../../config';
import type { LanguageCode } from 'grammy/types';
import type { Locale } from '../../engine/types';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';
import { ALLOWED_UPDATES, TelegramPoller } from './TelegramPoller';
import { TelegramSender } from './TelegramSender';
import { TelegramUpdateHandler } from './TelegramUpdateHandler';
import { createTelegramWebhookFastPath, createTelegramWebhookRouter } from './telegramWebhook';
import { asApiSignal, createTelegramApi, describeTelegramError, PUSH_RETRY, REPLY_DEADLINE_MS, REPLY_RETRY, TelegramPictures } from './telegramApi';
import { OperatorError } from '../../errors';

/** Commands shown in Telegram's menu button, in this order; the engine understands each (`/menu`, ...). */
export const TELEGRAM_COMMANDS = ['menu', 'help', 'language', 'back', 'cancel', 'start'] as const;
/** The officials' commands, in the menu of group chats (the bot answers them in officials' groups only). */
export const TELEGRAM_GROUP_COMMANDS = ['thongke', 'timbaocao', 'dangnhap', 'thongbao'] as const;
/** The commands' descriptions in every language (checked at start-up, like every text the code uses). */
export const TELEGRAM_TEXT_KEYS: readonly string[] = [...TELEGRAM_COMMANDS.map((c) => `telegram.commands.${c}`), ...TELEGRAM_GROUP_COMMANDS.map((c) => `telegram.groupCommands.${c}`)];
const WEBHOOK_RETRY_MS = 30_000;

/** The token was refused by the Bot API: start-up stops, naming the variable. */
export class TelegramTokenRejectedError extends OperatorError {
  constructor(apiRoot: string, description: string) {
    super(`TELEGRAM_BOT_TOKEN: the Bot API at ${apiRoot} refused the token (${description}). Copy the token again from @BotFather (/mybots → API Token), or check TELEGRAM_API_ROOT.`);
  }
}

export interface TelegramChannel extends ChannelPlugin {
  readonly name: 'telegram';
  router: Router;
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean;
  sender: TelegramSender;
  handler: TelegramUpdateHandler;
}

/**
 * The Telegram channel on grammY: the webhook route (always mounted, secret-checked), long polling in
 * `polling` mode, replies and notices through the Bot API with auto-retry, and at start-up getMe, setMyCommands
 * (vi and en) and, with PUBLIC_URL in webhook mode, setWebhook.
 */
export function createTelegramChannel(ctx: ChannelContext, tg: TelegramConfig): TelegramChannel {
  const log = ctx.log;
  const replyApi = createTelegramApi(tg, REPLY_RETRY);
  const pushApi = createTelegramApi(tg, PUSH_RETRY);
  const pollApi = createTelegramApi(tg);
  // One file-id cache for replies and pushes: a picture is uploaded once per process.
  const pictures = ctx.pictures || ctx.citizenPhotos ? new TelegramPictures(ctx.pictures, ctx.citizenPhotos) : undefined;
  const sender = new TelegramSender({ replyApi, pushApi, bulkApi: pollApi, reachability: ctx.reachability, log, pictures });
  const handler = new TelegramUpdateHandler({ pipeline: ctx.pipeline, sender, log, api: replyApi });
  const poller = new TelegramPoller(pollApi, handler, log);
  const translator = ctx.i18n;
  let webhookTimer: NodeJS.Timeout | null = null;
  let stopped = false;
  // Start-up calls (and their retries) end at stop(), so that a shutdown never waits for an unreachable Bot API.
  const lifecycle = new AbortController();
  const startupDeadline = () => asApiSignal(AbortSignal.any([lifecycle.signal, AbortSignal.timeout(REPLY_DEADLINE_MS)]));

  /** True when the Bot API answered; false when it could not be reached (start-up goes on without waiting). */
  const fetchBotInfo = async (): Promise<boolean> => {
    try {
      const me = await pollApi.getMe(startupDeadline());
      handler.botUsername = me.username;
      log.info({ channel: 'telegram', bot: me.username, mode: tg.mode }, 'Telegram bot identified');
      return true;
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) throw new TelegramTokenRejectedError(tg.apiRoot, err.description);
      log.error({ channel: 'telegram', err: describeTelegramError(err) }, 'getMe failed: the Bot API cannot be reached now; continuing (commands in groups addressed with @name are accepted for any bot until it answers)');
      return false;
    }
  };

  const setCommands = async () => {
    type Scope = { type: 'all_private_chats' } | { type: 'all_group_chats' };
    const menus: Array<[Scope, readonly string[], string]> = [
      [{ type: 'all_private_chats' }, TELEGRAM_COMMANDS, 'telegram.commands'],
      [{ type: 'all_group_chats' }, TELEGRAM_GROUP_COMMANDS, 'telegram.groupCommands'],
    ];
    const calls = menus.flatMap(([scope, names, keys]) => {
      const commandsIn = (locale: Locale) => names.map((command) => ({ command, description: translator.t(locale, `${keys}.${command}`) }));
      return [
        { commands: commandsIn(ctx.config.defaultLocale), other: { scope } as { scope: Scope; language_code?: LanguageCode } },
        // Telegram knows only two-letter ISO 639-1 codes: a language such as H'Mông (hmn) gets the default commands.
        ...translator.locales.filter((l) => /^[a-z]{2}$/.test(l)).map((locale) => ({ commands: commandsIn(locale), other: { scope, language_code: locale as LanguageCode } })),
      ];
    });
    for (const call of calls) {
      if (stopped) return;
      try {
        await replyApi.setMyCommands(call.commands, call.other, startupDeadline());
      } catch (err) {
        log.warn({ channel: 'telegram', err: describeTelegramError(err), language: call.other.language_code ?? 'default' }, 'setMyCommands failed: the command menu may be out of date; the commands still work when typed');
      }
    }
  };

  const registerWebhook = async (): Promise<void> => {
    if (stopped || !tg.webhookUrl) return;
    try {
      await replyApi.setWebhook(tg.webhookUrl, { secret_token: tg.webhookSecret, allowed_updates: [...ALLOWED_UPDATES] }, startupDeadline());
      log.info({ channel: 'telegram', url: tg.webhookUrl, derivedSecret: tg.webhookSecretDerived }, 'Telegram webhook registered');
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) throw new TelegramTokenRejectedError(tg.apiRoot, err.description);
      if (stopped) return;
      log.error({ channel: 'telegram', err: describeTelegramError(err), retryInMs: WEBHOOK_RETRY_MS }, 'setWebhook failed: Telegram cannot deliver updates until it succeeds; retrying');
      // A retry that finds the token refused cannot stop start-up any more: it says so, naming the variable.
      webhookTimer = setTimeout(() => void registerWebhook().catch((e: Error) => log.error({ channel: 'telegram', err: describeTelegramError(e) }, 'setWebhook failed for good: TELEGRAM_BOT_TOKEN was refused; fix it and restart')), WEBHOOK_RETRY_MS);
      webhookTimer.unref();
    }
  };

  return {
    name: 'telegram',
    router: createTelegramWebhookRouter({ secret: tg.webhookSecret, handler, log, isClosing: () => stopped }),
    fastPath: createTelegramWebhookFastPath({ secret: tg.webhookSecret, handler, log, isClosing: () => stopped }),
    sender,
    handler,
    async start() {
      const reachable = await fetchBotInfo();
      // With the Bot API out of reach, the command menu is set in the background rather than holding start-up.
      if (reachable) await setCommands();
      else void setCommands();
      if (tg.mode === 'polling') {
        // getUpdates does not work while a webhook is set; pending updates are kept.
        try {
          await (reachable ? replyApi : pollApi).deleteWebhook({ drop_pending_updates: false }, startupDeadline());
        } catch (err) {
          log.warn({ channel: 'telegram', err: describeTelegramError(err) }, 'deleteWebhook failed; polling may get 409 Conflict until the webhook is removed');
        }
        poller.start();
        log.info({ channel: 'telegram', mode: 'polling' }, 'Telegram: polling for updates');
        return;
      }
      if (tg.webhookUrl && reachable) await registerWebhook();
      else if (tg.webhookUrl) void registerWebhook().catch((err: Error) => log.error({ channel: 'telegram', err: describeTelegramError(err) }, 'setWebhook failed'));
      else log.warn({ channel: 'telegram', path: TELEGRAM_WEBHOOK_PATH }, 'TELEGRAM_MODE=webhook without PUBLIC_URL: the webhook is served but not registered; register it yourself (setWebhook with the same secret) or set PUBLIC_URL');
    },
    async stop() {
      stopped = true;
      lifecycle.abort();
      if (webhookTimer) clearTimeout(webhookTimer);
      await poller.stop();
    },
  };
}
