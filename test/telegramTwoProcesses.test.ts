import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { FakeBotApi } from './support/fakeBotApi';
import { startServer, tempDir, testRedisUrl, uniquePrefix, WebUser } from './support/harness';
import { spawnServer, stopAll, waitForExit, waitForListening } from './support/processes';
import { callbackUpdate, newUpdateId, textUpdate } from './support/telegramUpdates';

const TOKEN = '555000111:AAH-two-processes-token-abcdefghijk';
const SECRET = 'two-processes-secret';

/** One citizen's conversation, as Telegram updates: onboarding, the menu, changing commune by button and words. */
const SCRIPT: Array<(chat: number, updateId: number) => unknown> = [
  (c, u) => textUpdate(c, '/start', u),
  (c, u) => textUpdate(c, '2', u),
  (c, u) => textUpdate(c, 'coc lau', u),
  (c, u) => textUpdate(c, '1', u),
  (c, u) => textUpdate(c, '/menu', u),
  (c, u) => textUpdate(c, 'xyz', u),
  (c, u) => callbackUpdate(c, 'main:more', u),
  (c, u) => callbackUpdate(c, 'more:commune', u),
  (c, u) => textUpdate(c, 'quay lai', u),
  (c, u) => callbackUpdate(c, 'main:more', u),
  (c, u) => callbackUpdate(c, 'more:commune', u),
  (c, u) => textUpdate(c, 'ta van chu', u),
  (c, u) => textUpdate(c, 'tieng viet', u),
];

async function startProcess(apiRoot: string, prefix: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnServer({
    PORT: '0',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: prefix,
    DATA_DIR: tempDir(),
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: apiRoot,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_MODE: 'webhook',
  });
  return { child, url: await waitForListening(child) };
}

async function post(baseUrl: string, update: unknown): Promise<number> {
  const res = await fetch(`${baseUrl}/webhooks/telegram`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(update),
  });
  return res.status;
}

async function storedSession(redis: Redis, prefix: string, chat: number): Promise<Record<string, unknown>> {
  const session = JSON.parse((await redis.get(`${prefix}s:{telegram:${chat}}`))!) as Record<string, unknown>;
  delete session.updatedAt;
  return session;
}

describe('two server processes sharing one Redis, one Telegram chat', () => {
  const children: ChildProcess[] = [];
  const redis = new Redis(testRedisUrl());
  let fake: FakeBotApi;
  beforeAll(async () => {
    fake = await FakeBotApi.start(TOKEN);
  });
  afterAll(async () => {
    await stopAll(children);
    await redis.quit();
    await fake.close();
  });

  it('end in the same state, with the same replies in the same order, as one process; every update also redelivered to the other process', async () => {
    const singlePrefix = uniquePrefix();
    const sharedPrefix = uniquePrefix();
    const [single, a, b] = await Promise.all([startProcess(fake.url, singlePrefix), startProcess(fake.url, sharedPrefix), startProcess(fake.url, sharedPrefix)]);
    children.push(single.child, a.child, b.child);
    const aloneChat = 80_000_001;
    const sharedChat = 80_000_002;
    const texts = (chat: number) => fake.callsOf('sendMessage', chat).map((c) => c.payload.text as string);

    for (const make of SCRIPT) {
      const before = texts(aloneChat).length;
      expect(await post(single.url, make(aloneChat, newUpdateId()))).toBe(200);
      // Replies go out after the webhook answered; wait for them so the next update sees a quiet chat.
      await fake.waitFor(() => texts(aloneChat).length > before, 30_000);
    }

    for (const [i, make] of SCRIPT.entries()) {
      const update = make(sharedChat, newUpdateId());
      // Odd updates go first to A, even ones to B; the other process gets the same update at the same moment,
      // as when Telegram redelivers after a timeout while the first delivery is still being handled.
      const [first, second] = i % 2 ? [a, b] : [b, a];
      const statuses = await Promise.all([post(first.url, update), post(second.url, update)]);
      expect(statuses).toEqual([200, 200]);
    }
    await fake.waitFor(() => texts(sharedChat).length >= texts(aloneChat).length, 30_000);
    await new Promise((r) => setTimeout(r, 300));

    expect(texts(sharedChat)).toEqual(texts(aloneChat));
    const expected = await storedSession(redis, singlePrefix, aloneChat);
    const actual = await storedSession(redis, sharedPrefix, sharedChat);
    expect(actual).toEqual(expected);
    expect(actual.profile).toEqual({ locale: 'vi', commune: 'ta-van-chu' });
  }, 180_000);
});

describe('Telegram at start-up', () => {
  it('starts without waiting when the Bot API cannot be reached, and serves the web chat meanwhile', async () => {
    const closed = await FakeBotApi.start(TOKEN);
    await closed.close();
    const server = await startServer({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: closed.url, PUBLIC_URL: 'https://bot.example.gov.vn' });
    try {
      expect(await new WebUser(server.url).start()).toContain('1. Tiếng Việt');
    } finally {
      await server.close();
    }
  });

  it('stops start-up with one line naming TELEGRAM_BOT_TOKEN when the Bot API refuses the token', async () => {
    const fake = await FakeBotApi.start(TOKEN);
    try {
      const child = spawnServer({ PORT: '0', DATA_DIR: tempDir(), TELEGRAM_BOT_TOKEN: '555000111:AAH-a-token-that-was-revoked-xyz', TELEGRAM_API_ROOT: fake.url });
      const { code, stderr } = await waitForExit(child);
      expect(code).toBe(1);
      expect(stderr).toContain('TELEGRAM_BOT_TOKEN: the Bot API at');
      expect(stderr).toContain('@BotFather');
      expect(stderr).not.toContain('AAH-a-token-that-was-revoked-xyz');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await fake.close();
    }
  });
});
