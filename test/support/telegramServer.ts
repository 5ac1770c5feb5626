import { FakeBotApi, type WebhookAnswer } from './fakeBotApi';
import { startServer, testRedisUrl, uniquePrefix } from './harness';
import { textUpdate } from './telegramUpdates';

/** The public address every Telegram test server announces (deep links and poster links are built on it). */
export const TEST_PUBLIC_URL = 'https://bot.bacha.example.gov.vn';

export interface TelegramTestServer {
  /** The fake Bot API the server talks to. */
  bot: FakeBotApi;
  server: Awaited<ReturnType<typeof startServer>>;
  /** Posts one update to `/webhooks/telegram` as Telegram does (`FakeBotApi.postUpdate`: the secret header, and a method in the answer performed). */
  post(update: unknown): Promise<WebhookAnswer>;
  /** Posts one update and fails unless the webhook answers 200. */
  send(update: unknown): Promise<void>;
  /** Sends one update from `chat` and waits for the bot's answer: the texts it sent to the chat since. */
  reply(chat: number, update: unknown): Promise<string[]>;
  /** A private message typed in `chat`: its answer's texts joined by line breaks. */
  say(chat: number, text: string): Promise<string>;
  /** The texts the bot has sent to a chat so far, in order. */
  texts(chat: number | string): string[];
  close(): Promise<void>;
}

/**
 * The real server in Telegram webhook mode against a fresh fake Bot API, on a private Redis key prefix: the set-up the
 * end-to-end Telegram suites share. `env` adds to (or overrides) the Telegram variables. Both servers are registered
 * with the clean-up registry, so they stop even when a file fails before its `afterAll`.
 */
export async function startTelegramServer(options: { token: string; secret: string; env?: Record<string, string | undefined>; clock?: () => number }): Promise<TelegramTestServer> {
  const bot = await FakeBotApi.start(options.token);
  const server = await startServer(
    {
      TELEGRAM_BOT_TOKEN: options.token,
      TELEGRAM_API_ROOT: bot.url,
      TELEGRAM_WEBHOOK_SECRET: options.secret,
      PUBLIC_URL: TEST_PUBLIC_URL,
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: uniquePrefix(),
      ...options.env,
    },
    { clock: options.clock },
  );
  const post = (update: unknown) => bot.postUpdate(`${server.url}/webhooks/telegram`, options.secret, update);
  const texts = (chat: number | string) => bot.callsOf('sendMessage', chat).map((c) => String(c.payload.text));
  const send = async (update: unknown) => {
    const { status } = await post(update);
    if (status !== 200) throw new Error(`The webhook answered ${status}, not 200`);
  };
  const reply = async (chat: number, update: unknown) => {
    const before = texts(chat).length;
    await send(update);
    await bot.waitFor(() => texts(chat).length > before);
    return texts(chat).slice(before);
  };
  return {
    bot,
    server,
    post,
    send,
    reply,
    say: async (chat, text) => (await reply(chat, textUpdate(chat, text))).join('\n'),
    texts,
    async close() {
      try {
        await server.close();
      } finally {
        await bot.close();
      }
    },
  };
}
