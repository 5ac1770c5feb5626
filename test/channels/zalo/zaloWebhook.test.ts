import { Writable } from 'node:stream';
import pino from 'pino';
import { readZaloTimestamp, RefusalLog } from '../../../src/channels/zalo/zaloWebhook';
import { FakeZalo, newUserId, postZaloEvent, zaloEnv, zaloEvents, zaloSignature } from '../../support/fakeZalo';
import { startServer, testRedisUrl, uniquePrefix } from '../../support/harness';

const INITIAL = { accessToken: 'acc-webhook-guard-1', refreshToken: 'ref-webhook-guard-1' };

describe('the Zalo webhook on the public internet', () => {
  let fake: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    fake = await new FakeZalo(INITIAL).start();
    server = await startServer({ ...zaloEnv(fake, INITIAL), REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
  });
  afterAll(async () => {
    await server.close();
    await fake.stop();
  });

  it('checks the signature before reading the body: unsigned garbage gets 401, not a parse error', async () => {
    const unsigned = await fetch(`${server.url}/webhooks/zalo`, { method: 'POST', headers: { 'x-zevent-signature': 'mac=00' }, body: '{"event_name": ' });
    expect(unsigned.status).toBe(401);
    const wrongShapeUnsigned = await postZaloEvent(server.url, { event_name: 'user_send_text', timestamp: String(Date.now()) }, { signature: 'mac=' + '0'.repeat(64) });
    expect(wrongShapeUnsigned.status).toBe(401);
  });

  it('refuses a correctly signed event whose timestamp is more than 15 minutes from now, and acts on nothing', async () => {
    const user = newUserId();
    for (const offset of [-16 * 60_000, 16 * 60_000]) {
      const event = { ...zaloEvents.follow(user), timestamp: String(Date.now() + offset) };
      const res = await postZaloEvent(server.url, event);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('stale_event');
    }
    expect(await server.runtime.store.peek(`zalo:${user}`)).toBeNull();
    expect(fake.textsTo(user)).toEqual([]);
    // The same event, sent now, is welcome.
    expect((await postZaloEvent(server.url, zaloEvents.follow(user))).status).toBe(200);
    await fake.waitForMessages(user, 1);
  });

  it('handles a redelivered user_withdraw once: it does not erase what the person did after it', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    const withdraw = zaloEvents.withdraw(user);
    expect((await postZaloEvent(server.url, withdraw)).status).toBe(200);
    expect(await server.runtime.store.peek(`zalo:${user}`)).toBeNull();
    // The person comes back and starts again; then Zalo redelivers the old withdrawal.
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 4);
    expect((await postZaloEvent(server.url, withdraw)).status).toBe(200);
    expect((await server.runtime.store.peek(`zalo:${user}`))?.flow).toBe('onboarding');
  });

  it('handles a redelivered unfollow once: a person who wrote since stays reachable', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    const unfollow = zaloEvents.unfollow(user);
    await postZaloEvent(server.url, unfollow);
    expect(await server.runtime.reachability.isReachable('zalo', user)).toBe(false);
    await postZaloEvent(server.url, zaloEvents.text(user, '1'));
    expect(await server.runtime.reachability.isReachable('zalo', user)).toBe(true);
    expect((await postZaloEvent(server.url, unfollow)).status).toBe(200);
    expect(await server.runtime.reachability.isReachable('zalo', user)).toBe(true);
  });
});

describe('readZaloTimestamp', () => {
  it('reads the timestamp field from the raw bytes, as a string or a number, and nothing else', () => {
    expect(readZaloTimestamp(Buffer.from('{"event_name":"follow","timestamp":"1751272409784"}'))).toBe('1751272409784');
    expect(readZaloTimestamp(Buffer.from('{"timestamp" : 1751272409784, "x": 1}'))).toBe('1751272409784');
    expect(readZaloTimestamp(Buffer.from('{"timestamp":"17512x"}'))).toBeNull();
    expect(readZaloTimestamp(Buffer.from('{"time":"1751272409784"}'))).toBeNull();
    expect(readZaloTimestamp(Buffer.alloc(0))).toBeNull();
  });

  it('is what the signature is computed with', () => {
    const raw = JSON.stringify(zaloEvents.follow(newUserId()));
    expect(zaloSignature(raw, readZaloTimestamp(Buffer.from(raw))!)).toBe(zaloSignature(raw, String(JSON.parse(raw).timestamp)));
  });
});

describe('RefusalLog', () => {
  it('logs refused requests at most once a minute, counting those in between', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    let now = 1_000_000;
    const refusals = new RefusalLog(log, 60_000, () => now);
    for (let i = 0; i < 50; i++) refusals.note('signature mismatch', {});
    now += 59_999;
    refusals.note('signature mismatch', {});
    expect(lines).toHaveLength(1);
    now += 1;
    refusals.note('signature mismatch', {});
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.refused)).toEqual([1, 51]);
  });
});
