import { Redis } from 'ioredis';
import { startServer, testRedisUrl, uniquePrefix, WebUser } from './support/harness';

const SECRET = 'web-identity-tests-share-this-secret-0123456789';

describe('the web chat identity is issued by the server, and the JSON API is rate limited', () => {
  const redis = new Redis(testRedisUrl());
  const prefix = uniquePrefix();
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>;
  const env = {
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: prefix,
    SERVER_SECRET: SECRET,
    WEB_NEW_CHATS_PER_HOUR_PER_ADDRESS: '8',
    WEB_REQUESTS_PER_MINUTE_PER_CHAT: '12',
    WEB_REQUESTS_PER_MINUTE_PER_ADDRESS: '1000',
  };
  beforeAll(async () => {
    a = await startServer(env);
    b = await startServer(env);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await redis.quit();
  });
  const sessions = async () => (await redis.keys(`${prefix}s:*`)).length;

  it('issues a random id in a signed, HttpOnly, SameSite=Lax cookie; an id in the body or a forged cookie is not taken', async () => {
    const res = await fetch(`${a.url}/api/web/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'start', eventId: 'first-event-1', userId: 'victim-user-id-000000' }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^cgb_chat=[A-Za-z0-9_-]{22,}\.[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(await redis.exists(`${prefix}s:{web:victim-user-id-000000}`)).toBe(0);

    const victim = new WebUser(a.url);
    await victim.start();
    await victim.say('1');
    const forged = `cgb_chat=${victim.userId}.${'A'.repeat(43)}`;
    const attacker = await fetch(`${a.url}/api/web/events`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: forged }, body: JSON.stringify({ type: 'text', text: '2', eventId: 'forged-event-1' }) });
    expect(attacker.status).toBe(200);
    expect(attacker.headers.get('set-cookie')).not.toContain(victim.userId);
    const prompt = await fetch(`${a.url}/api/web/prompt`, { headers: { cookie: forged } });
    expect(((await prompt.json()) as { known: boolean }).known).toBe(false);
  });

  it('loading the page or asking for the current question writes no session and issues no identity', async () => {
    const before = await sessions();
    for (let i = 0; i < 20; i++) {
      const page = await fetch(`${a.url}/?start=deletedata__erase`);
      expect(page.headers.get('set-cookie')).toBeNull();
      const prompt = await fetch(`${a.url}/api/web/prompt`);
      expect(prompt.headers.get('set-cookie')).toBeNull();
      expect(((await prompt.json()) as { known: boolean }).known).toBe(false);
    }
    expect(await sessions()).toBe(before);
  });

  it('a client that asks for new identities in a loop gets 429s, across processes, and storage stops growing', async () => {
    const before = await sessions();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const server = i % 2 ? a : b;
      const res = await fetch(`${server.url}/api/web/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'start', eventId: `loop-event-${i}` }) });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // 8 new chats an hour from this address, shared by both processes (two were issued by the first test).
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
    expect(statuses.slice(-10)).toEqual(Array(10).fill(429));
    expect((await sessions()) - before).toBeLessThanOrEqual(6);
  });

  it('one identity is limited per minute, on every process alike', async () => {
    const shared = { ...env, REDIS_KEY_PREFIX: uniquePrefix() };
    const [c, d] = [await startServer(shared), await startServer(shared)];
    try {
      const first = new WebUser(c.url);
      expect((await first.post({ type: 'start', eventId: 'limit-event-0' })).status).toBe(200);
      const statuses: number[] = [];
      for (let i = 1; i < 16; i++) statuses.push((await new WebUser(i % 2 ? c.url : d.url).sameAs(first).post({ type: 'text', text: 'x', eventId: `limit-event-${i}` })).status);
      // 12 a minute for one chat, counted together by both processes: the 12th request and later are refused.
      expect(statuses.slice(0, 11)).toEqual(Array(11).fill(200));
      expect(statuses.slice(11)).toEqual(Array(4).fill(429));
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('the session of someone who never got past the first question expires within a day; after it, the full TTL', async () => {
    const prefix2 = uniquePrefix();
    const server = await startServer({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix2 });
    try {
      const u = new WebUser(server.url);
      await u.start();
      const key = `${prefix2}s:{web:${u.userId}}`;
      const brief = await redis.ttl(key);
      expect(brief).toBeGreaterThan(0);
      expect(brief).toBeLessThanOrEqual(86_400);
      await u.say('1');
      expect(await redis.ttl(key)).toBeGreaterThan(29 * 86_400);
    } finally {
      await server.close();
    }
  });
});
