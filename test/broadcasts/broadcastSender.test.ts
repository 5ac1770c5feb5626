import { BroadcastSender, DEFAULT_SENDER_OPTIONS } from '../../src/broadcasts/BroadcastSender';
import { createLogger } from '../../src/logger';
import { MemoryRateLimiter } from '../../src/util/RateLimiter';
import { FakeBotApi } from '../support/fakeBotApi';
import { startServer, testRedisUrl, uniquePrefix } from '../support/harness';

const TOKEN = '123456789:AAF1x-pipeline-test-token-abcdefgh';
const ADMIN = 'admin-token-for-pipeline-0123456789';

/**
 * The sender's own loop (`start`), which claims the next batch while the current one is sent. The end-to-end suites
 * drive the sender batch by batch (`runUntilIdle`); here it runs as in production, against the fake Bot API, with its
 * answers held so that what is in flight can be looked at without measuring time.
 */
describe('the broadcast sender loop', () => {
  let bot: FakeBotApi;
  let server: Awaited<ReturnType<typeof startServer>>;
  const running: BroadcastSender[] = [];

  beforeAll(async () => {
    bot = await FakeBotApi.start(TOKEN);
    server = await startServer({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: bot.url, REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix(), ADMIN_TOKEN: ADMIN });
  });
  afterEach(async () => {
    bot.clearFailures();
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await server.close();
    await bot.close();
  });

  const repo = () => server.runtime.broadcasts.repo;
  const db = () => server.runtime.db;

  /** A sender of its own on Telegram, `concurrency` per batch, at 1,000 a second (a burst of one batch). */
  function startSender(concurrency: number): BroadcastSender {
    const sender = new BroadcastSender({
      repo: repo(),
      outbound: server.runtime.outbound,
      channels: [{ channel: 'telegram', limiter: new MemoryRateLimiter({ perSecond: 1000, burst: concurrency }), concurrency }],
      hooks: {
        render: (b, locale) => server.runtime.broadcasts.render(b, locale),
        onUnreachable: async () => undefined,
        onProgress: async () => undefined,
        onFinished: async () => undefined,
      },
      log: createLogger('silent'),
      options: { ...DEFAULT_SENDER_OPTIONS, idleMs: 20 },
    });
    running.push(sender);
    sender.start();
    return sender;
  }

  async function announce(commune: string, chats: string[], text: string): Promise<number> {
    for (const chat of chats) await repo().subscribe({ channel: 'telegram', userId: chat, commune, locale: 'vi', urgent: true, news: true }, new Date());
    const res = await fetch(`${server.url}/api/broadcasts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ communes: [commune], topic: 'news', text: { vi: text } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  }

  /** Rows of a broadcast by state: in flight (`sending`), claimed but not started, and not claimed. */
  async function rows(id: number): Promise<{ sending: number; claimedAhead: number; free: number }> {
    const r = await db().query<{ sending: number; claimed: number; free: number }>(
      `SELECT count(*) FILTER (WHERE status = 'sending')::int AS sending,
              count(*) FILTER (WHERE status = 'pending' AND claimed_until IS NOT NULL)::int AS claimed,
              count(*) FILTER (WHERE status = 'pending' AND claimed_until IS NULL)::int AS free
         FROM deliveries WHERE broadcast_id = $1`,
      [id],
    );
    return { sending: Number(r[0]!.sending), claimedAhead: Number(r[0]!.claimed), free: Number(r[0]!.free) };
  }

  async function until(what: string, predicate: () => Promise<boolean> | boolean): Promise<void> {
    for (let i = 0; i < 1_000; i++) {
      if (await predicate()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const callsWith = (text: string) => bot.callsOf('sendMessage').filter((c) => String(c.payload.text).includes(text));

  it('claims the next batch while one is in flight, never has two batches in flight, and sends each recipient once', async () => {
    const text = 'Lịch tiêm chủng theo lô.';
    const chats = Array.from({ length: 10 }, (_, i) => `61${i}`);
    const id = await announce('coc-ly', chats, text);
    const release = bot.hold('sendMessage');
    try {
      startSender(4);
      // The first batch is at the platform (its answers held); the next one is claimed, not started.
      await until('the first batch to be in flight and the next one claimed', async () => callsWith(text).length === 4 && (await rows(id)).claimedAhead === 4);
      expect(await rows(id)).toEqual({ sending: 4, claimedAhead: 4, free: 2 });
      expect(callsWith(text)).toHaveLength(4);
    } finally {
      release();
    }
    await until('the broadcast to finish', async () => (await repo().findBroadcast(id))!.status === 'done');
    expect(await repo().report(id)).toEqual([expect.objectContaining({ status: 'sent', n: 10 })]);
    for (const chat of chats) expect(callsWith(text).filter((c) => String(c.payload.chat_id) === chat)).toHaveLength(1);
  });

  it('a sender stopped with a batch claimed ahead frees it at once: another sender sends it', async () => {
    const text = 'Dừng khi đã nhận trước một lô.';
    const chats = Array.from({ length: 6 }, (_, i) => `62${i}`);
    const id = await announce('ban-pho', chats, text);
    const release = bot.hold('sendMessage');
    const sender = startSender(3);
    let stopped: Promise<void>;
    try {
      await until('a batch in flight and the next one claimed', async () => callsWith(text).length === 3 && (await rows(id)).claimedAhead === 3);
      stopped = sender.stop();
    } finally {
      release();
    }
    await stopped!;
    // The batch in flight was finished and recorded; the one claimed ahead was never started and is free again.
    expect(await rows(id)).toEqual({ sending: 0, claimedAhead: 0, free: 3 });
    await server.runtime.broadcastSender.runUntilIdle();
    expect(await repo().report(id)).toEqual([expect.objectContaining({ status: 'sent', n: 6 })]);
    for (const chat of chats) expect(callsWith(text).filter((c) => String(c.payload.chat_id) === chat)).toHaveLength(1);
  });

  it('a batch claimed before a "retry after" waits for it too', async () => {
    const text = 'Chờ lệnh chậm lại của nền tảng.';
    const chats = Array.from({ length: 4 }, (_, i) => `63${i}`);
    const id = await announce('na-hoi', chats, text);
    // The first call answered gets a 429: by then the second batch's slots were reserved (before the pause).
    bot.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    const release = bot.hold('sendMessage');
    try {
      startSender(2);
      await until('a batch in flight and the next one claimed', async () => callsWith(text).length === 2 && (await rows(id)).claimedAhead === 2);
    } finally {
      release();
    }
    await until('the broadcast to finish', async () => (await repo().findBroadcast(id))!.status === 'done');
    const calls = callsWith(text);
    const refused = calls.find((c) => c.failed)!;
    expect(calls.indexOf(refused)).toBeLessThan(2);
    // Everything after the first batch went out after the pause the platform asked for.
    for (const c of calls.slice(2)) expect(c.at - refused.at).toBeGreaterThanOrEqual(990);
    expect(await repo().report(id)).toEqual([expect.objectContaining({ status: 'sent', n: 4 })]);
  });
});
