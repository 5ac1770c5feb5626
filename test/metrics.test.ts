import path from 'node:path';
import { ZALO_TOKEN_FILE } from '../src/channels/zalo/zaloChannel';
import { FileTokenStore } from '../src/channels/zalo/ZaloTokens';
import type { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, newUserId, postZaloEvent, zaloEnv, zaloEvents } from './support/fakeZalo';
import { startServer, tempDir } from './support/harness';
import { startTelegramServer, type TelegramTestServer } from './support/telegramServer';
import { sampleOf as sample } from './support/prometheusText';
import { textUpdate } from './support/telegramUpdates';

const TOKEN = '123456789:AAF1x-metrics-test-token-abcdefgh';
const SECRET = 'metrics_test_secret';
const METRICS_TOKEN = 'metrics-scrape-token-0123456789';

describe('metrics and readiness', () => {
  let t: TelegramTestServer;
  let bot: FakeBotApi;
  let server: TelegramTestServer['server'];

  beforeAll(async () => {
    t = await startTelegramServer({ token: TOKEN, secret: SECRET, env: { TELEGRAM_MODE: 'webhook', METRICS_TOKEN } });
    ({ bot, server } = t);
  });
  afterAll(async () => {
    // The readiness test stops Redis under the server, so its session store cannot say goodbye.
    await t?.close().catch(() => undefined);
  });

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    return res.text();
  };
  const deliver = async (update: unknown) => (await t.post(update)).status;

  it('refuses a scrape without the token, and answers with it', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const text = await scrape();
    expect(text).toContain('cgb_nodejs_eventloop_lag_seconds');
    expect(sample(text, 'cgb_dependency_up', { dependency: 'redis' })).toBe(1);
    expect(sample(text, 'cgb_dependency_up', { dependency: 'database' })).toBe(1);
    expect(sample(text, 'cgb_notices_pending')).toBe(0);
  });

  it('counts updates by channel, kind and outcome, their latency, and Bot API attempts with 429s and retries', async () => {
    const before = await scrape();
    // The reply to this update meets a 429 first; grammY's auto-retry waits the second and sends it again.
    bot.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } }, { times: 1 });
    const update = textUpdate(640001, '/start');
    expect(await deliver(update)).toBe(200);
    expect(await deliver(update)).toBe(200); // redelivered
    // Telegram is answered at the commit; the update is counted once its replies are out (after the retry): wait for it.
    let after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    for (let i = 0; i < 600 && delta('cgb_updates_total', { channel: 'telegram', kind: 'start', outcome: 'handled' }) < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await scrape();
    }
    expect(delta('cgb_updates_total', { channel: 'telegram', kind: 'start', outcome: 'handled' })).toBe(1);
    expect(delta('cgb_updates_total', { channel: 'telegram', kind: 'start', outcome: 'duplicate' })).toBe(1);
    expect(delta('cgb_pipeline_seconds_count', { channel: 'telegram' })).toBe(1);
    expect(delta('cgb_outbound_attempts_total', { channel: 'telegram', method: 'sendMessage', status: '429' })).toBe(1);
    expect(delta('cgb_outbound_attempts_total', { channel: 'telegram', method: 'sendMessage', status: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(delta('cgb_outbound_retries_total', { channel: 'telegram', method: 'sendMessage' })).toBe(1);
  });

  it('shows a dependency going down in /readyz (naming it) and in the metrics', async () => {
    await server.runtime.store.close();
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { down: string[]; checks: Record<string, string> };
    expect(body.down).toEqual(['redis']);
    expect(body.checks.database).toBe('ok');
    const text = await scrape();
    expect(sample(text, 'cgb_dependency_up', { dependency: 'redis' })).toBe(0);
    expect(sample(text, 'cgb_dependency_outages_total', { dependency: 'redis' })).toBe(1);
    expect(sample(text, 'cgb_dependency_up', { dependency: 'database' })).toBe(1);
  });
});

describe('metrics on a port of their own', () => {
  it('serve /metrics there (and only that), and not on the main port', async () => {
    const server = await startServer({ METRICS_PORT: '0' });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      const port = server.runtime.metricsPort();
      expect(port).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('cgb_updates_total');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('Zalo metrics', () => {
  const INITIAL = { accessToken: 'acc-metrics-8f3a1c', refreshToken: 'ref-metrics-5d2e9b' };
  let fake: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;
  const obtainedAt = Date.now() - 3_600_000;
  beforeAll(async () => {
    fake = await new FakeZalo(INITIAL).start();
    // The pair the channel stored at its last renewal, an hour ago, valid 25 h.
    const dataDir = tempDir('cgb-data-');
    await new FileTokenStore(path.join(dataDir, ZALO_TOKEN_FILE)).save({ accessToken: 'acc-renewed-1a2b3c', refreshToken: 'ref-renewed-4d5e6f', obtainedAt, expiresAt: obtainedAt + 90_000_000, seed: 'seed' });
    server = await startServer({ ...zaloEnv(fake, INITIAL), METRICS_TOKEN, DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await server.close();
    await fake.stop();
  });

  it('show the stored token pair\'s age and time to expiry, and every OA API attempt by status', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const text = await scrape();
    // Read when scraped: 1 h old, 24 h left (give or take the seconds this test takes).
    expect(sample(text, 'cgb_zalo_token_age_seconds')).toBeGreaterThanOrEqual(3_600);
    expect(sample(text, 'cgb_zalo_token_age_seconds')).toBeLessThan(3_600 + 600);
    expect(sample(text, 'cgb_zalo_token_expires_in_seconds')).toBeLessThanOrEqual(86_400);
    expect(sample(text, 'cgb_zalo_token_expires_in_seconds')).toBeGreaterThan(86_400 - 600);

    const user = newUserId();
    expect((await postZaloEvent(server.url, zaloEvents.follow(user) as Record<string, unknown>)).status).toBe(200);
    await fake.waitForMessages(user, 1);
    expect(sample(await scrape(), 'cgb_outbound_attempts_total', { channel: 'zalo', status: 'ok' })).toBeGreaterThanOrEqual(1);
  });
});
