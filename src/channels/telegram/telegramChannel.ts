import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler, type Router } from 'express';
import { GrammyError, type Api } from 'grammy';
import { TELEGRAM_WEBHOOK_PATH, type TelegramConfig } from '../../config';
import type { LanguageCode } from 'grammy/types';
import type { Locale, Reply } from '../../engine/types';
import { userTag, type Logger } from '../../logger';
import { ContentRefusedError, RateLimitedError, RecipientUnreachableError, type ChannelSender, type SendOptions, type SendReceipt } from '../../outbound/Outbound';
import type { Reachability } from '../../users/Reachability';
import { answerWebhook, type WebhookResponse } from '../answerWebhook';
import { setSecurityHeaders } from '../../http/createApp';
import type { ChannelContext, ChannelPlugin } from '../ChannelPlugin';
import { parseTelegramUpdate } from './parseTelegramUpdate';
import { renderTelegramReplies } from './renderTelegramReplies';
import { ALLOWED_UPDATES, TelegramPoller } from './TelegramPoller';
import { TelegramUpdateHandler } from './TelegramUpdateHandler';
import { userKey } from '../../pipeline/userKey';
import { asApiSignal, createTelegramApi, deadline, describeTelegramError, PUSH_DEADLINE_MS, PUSH_RETRY, REPLY_DEADLINE_MS, REPLY_RETRY, sendTelegramCalls, unreachableReason } from './telegramApi';
import { describeError, OperatorError } from '../../errors';

/** Telegram's cap on update bodies is far below this; anything larger is not from Telegram. */
const MAX_BODY = '1mb';
/** Commands shown in Telegram's menu button, in this order; the engine understands each (`/menu`, ...). */
export const TELEGRAM_COMMANDS = ['menu', 'help', 'language', 'back', 'cancel', 'start'] as const;
/** The officials' commands, in the menu of group chats (the bot answers them in officials' groups only). */
export const TELEGRAM_GROUP_COMMANDS = ['thongke', 'timbaocao', 'dangnhap', 'thongbao'] as const;
/** Files bots may download through the Bot API (getFile). */
const MAX_FILE_BYTES = 20 * 1024 * 1024;
const WEBHOOK_RETRY_MS = 30_000;

/** The token was refused by the Bot API: start-up stops, naming the variable. */
export class TelegramTokenRejectedError extends OperatorError {
  constructor(apiRoot: string, description: string) {
    super(`TELEGRAM_BOT_TOKEN: the Bot API at ${apiRoot} refused the token (${description}). Copy the token again from @BotFather (/mybots → API Token), or check TELEGRAM_API_ROOT.`);
  }
}

/** A Telegram file could not be fetched (too large, expired file id, Bot API unreachable). */
export class TelegramFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramFileError';
  }
}

/**
 * Compares the secret header with the expected secret in constant time (for equal lengths; a length mismatch
 * tells nothing about the secret's content). Build once per secret: the check runs on every update.
 */
export function createSecretCheck(secret: string): (header: string | undefined) => boolean {
  const expected = Buffer.from(secret, 'utf8');
  return (header) => {
    if (header === undefined) return false;
    const given = Buffer.from(header, 'utf8');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  };
}

/** One-off form of `createSecretCheck`. */
export function verifyTelegramSecret(header: string | undefined, secret: string): boolean {
  return createSecretCheck(secret)(header);
}

/**
 * `POST /webhooks/telegram`, in the order of the update pipeline: the secret header (401, nothing else done), the
 * body (400 malformed JSON, 413 over 1 MB, via the app's error boundary), the update's shape (400 naming the
 * field; unknown update kinds 200 and ignored), then the handler: 200 once committed or a duplicate, 5xx when
 * the update could not be committed so that Telegram redelivers it.
 */
export function createTelegramWebhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();
  const secretMatches = createSecretCheck(deps.secret);
  const checkSecret: RequestHandler = (req, res, next) => {
    if (!secretMatches(req.header('X-Telegram-Bot-Api-Secret-Token'))) {
      res.status(401).json({ error: 'unauthorized', message: 'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.' });
      return;
    }
    next();
  };
  router.post(TELEGRAM_WEBHOOK_PATH, checkSecret, express.json({ limit: MAX_BODY }), (req, res) => answerTelegramUpdate(req.body, res, deps));
  return router;
}

type WebhookDeps = { secret: string; handler: TelegramUpdateHandler; log: Logger; isClosing?: () => boolean };

/** The update's shape (400 naming the field), then the handler (200 once committed, 5xx when not). */
async function answerTelegramUpdate(body: unknown, res: WebhookResponse, deps: WebhookDeps): Promise<void> {
  const parsed = parseTelegramUpdate(body, deps.handler.botUsername);
  if (!parsed.ok) {
    res.status(400).json({ error: 'invalid_update', problems: parsed.problems });
    return;
  }
  await answerWebhook(res, { channel: 'telegram', eventId: `tg:${parsed.updateId}`, log: deps.log, closing: deps.isClosing?.() ?? false }, () => deps.handler.handle(parsed.updateId, parsed.meaning));
}

/**
 * The same route served on Node's `http` directly, without Express: Telegram's own requests (a POST of plain JSON to
 * exactly TELEGRAM_WEBHOOK_PATH) are every update the bot gets, and Express's routing and body parser were ~8 % of
 * the CPU per update. Returns false, touching nothing, for any other request (a query string, another content type,
 * a compressed body...): the Express route answers those, with the same statuses and bodies as here.
 */
export function createTelegramWebhookFastPath(deps: WebhookDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const secretMatches = createSecretCheck(deps.secret);
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== TELEGRAM_WEBHOOK_PATH) return false;
    const encoding = req.headers['content-encoding'];
    if (!PLAIN_JSON.test(req.headers['content-type'] ?? '') || (encoding !== undefined && encoding !== 'identity')) return false;
    setSecurityHeaders(res);
    const header = req.headers['x-telegram-bot-api-secret-token'];
    if (!secretMatches(Array.isArray(header) ? header[0] : header)) {
      req.resume();
      send(res, 401, { error: 'unauthorized', message: 'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.' });
      return true;
    }
    const tooLarge = () => send(res, 413, { error: 'payload_too_large', message: 'The request body is larger than this endpoint accepts.' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      req.resume();
      tooLarge();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return tooLarge();
      const text = Buffer.concat(chunks, size).toString('utf8');
      let body: unknown;
      try {
        // As Express's JSON parser (strict): an empty body is {}, and only an object or an array is accepted.
        body = text.length === 0 ? {} : /^\s*[[{]/.test(text) ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      if (body === undefined) return send(res, 400, { error: 'malformed_body', message: 'The request body is not valid JSON.' });
      const plain: WebhookResponse = {
        get headersSent() {
          return res.headersSent;
        },
        status: (code) => ({ json: (b) => send(res, code, b) }),
      };
      answerTelegramUpdate(body, plain, deps).catch((err: unknown) => {
        deps.log.error({ err: describeError(err), method: 'POST', path: TELEGRAM_WEBHOOK_PATH }, 'request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal_error', message: 'Something went wrong on our side; please try again.' });
      });
    });
    return true;
  };
}

/** A JSON body as Telegram sends it; anything else goes to the Express route. */
const PLAIN_JSON = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
/** `MAX_BODY` in bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/** One broadcast message may take this long, network included, before it counts as failed (and is retried). */
const BULK_DEADLINE_MS = 30_000;

/** Sends notices and broadcasts to Telegram chats; refuses chats marked unreachable without calling Telegram. */
export class TelegramSender implements ChannelSender {
  readonly channel = 'telegram' as const;
  constructor(
    private readonly api: Api,
    private readonly reachability: Reachability,
    private readonly log: Logger,
    /** Without auto-retry: broadcasts are paced by the caller, who must hear about a 429 at once. */
    private readonly bulkApi: Api = api,
  ) {}

  async send(userId: string, replies: Reply[], options: SendOptions = {}): Promise<SendReceipt> {
    if (!(await this.reachability.isReachable('telegram', userId))) {
      throw new RecipientUnreachableError('telegram', 'the chat blocked the bot or removed it; nothing is sent until it comes back');
    }
    try {
      const api = options.bulk ? this.bulkApi : this.api;
      return { messageIds: await sendTelegramCalls(api, userId, renderTelegramReplies(replies), deadline(options.bulk ? BULK_DEADLINE_MS : PUSH_DEADLINE_MS)) };
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
      await this.reachability.markUnreachable('telegram', userId, reason);
      this.log.info({ channel: 'telegram', user: userTag(userKey({ channel: 'telegram', userId })), reason }, 'chat cannot be reached: marked unreachable');
      throw new RecipientUnreachableError('telegram', reason);
    }
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
        await this.api.editMessageText(chatId, messageId, text, { reply_markup: { inline_keyboard: [] } }, signal);
      } catch (err) {
        if (!(err instanceof GrammyError) || err.error_code !== 400) throw err;
        if (/no text in the message/i.test(err.description)) {
          await this.api.editMessageCaption(chatId, messageId, { caption: text }, signal).catch((e: unknown) => {
            if (!(e instanceof GrammyError) || e.error_code !== 400) throw e;
          });
        }
        // "message is not modified", "message to edit not found": nothing left to redact.
      }
    }
  }
}

/**
 * Photos arrive as `photo` events holding the file id only; an action that needs the picture fetches it here
 * (getFile, then the file URL of the same Bot API server).
 */
export class TelegramFiles {
  constructor(
    private readonly api: Api,
    private readonly config: Pick<TelegramConfig, 'token' | 'apiRoot'>,
  ) {}

  async fetch(fileRef: string, signal: AbortSignal = AbortSignal.timeout(60_000)): Promise<{ bytes: Buffer; path: string }> {
    const file = await this.api.getFile(fileRef, asApiSignal(signal));
    if (!file.file_path) throw new TelegramFileError('Telegram did not give a download path for this file (it may be larger than the 20 MB bots may download).');
    if (file.file_size !== undefined && file.file_size > MAX_FILE_BYTES) throw new TelegramFileError(`The file is ${file.file_size} bytes; bots may download at most ${MAX_FILE_BYTES}.`);
    const res = await fetch(`${this.config.apiRoot}/file/bot${this.config.token}/${file.file_path}`, { signal });
    if (!res.ok) throw new TelegramFileError(`Downloading the file failed: the Bot API answered ${res.status}.`);
    return { bytes: Buffer.from(await res.arrayBuffer()), path: file.file_path };
  }
}

export interface TelegramChannel extends ChannelPlugin {
  readonly name: 'telegram';
  router: Router;
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean;
  sender: TelegramSender;
  files: TelegramFiles;
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
  const handler = new TelegramUpdateHandler({ pipeline: ctx.pipeline, reachability: ctx.reachability, log, api: replyApi });
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
    sender: new TelegramSender(pushApi, ctx.reachability, log, pollApi),
    files: new TelegramFiles(replyApi, tg),
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
