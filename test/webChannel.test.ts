import { startServer, testRedisUrl, uniquePrefix, WebUser } from './support/harness';

describe.each([
  ['in-memory sessions', { REDIS_URL: '' }],
  ['Redis sessions', { REDIS_URL: 'redis' }],
])('web chat over HTTP (%s)', (_name, env) => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer(env.REDIS_URL ? { REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() } : {});
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the chat page in Vietnamese at /', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('name="viewport"');
    expect((await fetch(`${server.url}/chat.js`)).status).toBe(200);
  });

  it('a person picks a language and a commune and reaches the menu, by numbers and words without diacritics', async () => {
    const u = new WebUser(server.url);
    expect(await u.start()).toContain('1. Tiếng Việt');
    expect(await u.say('tieng viet')).toContain('Anh/Chị sống ở xã, thị trấn nào?');
    const menu = await u.say('nam khanh');
    expect(menu).toContain('Đã lưu: Xã Nậm Khánh');
    const more = /(\d+)\. Khác\.\.\./.exec(menu)?.[1];
    expect(more).toBeDefined();
    const number = /(\d+)\. Số điện thoại cần biết/.exec(await u.say(more!))?.[1];
    expect(number).toBeDefined();
    expect(await u.say(number!)).toContain('1900 9095');
  });

  it('the same event id sent three times has one effect, and the repeats get the current question back', async () => {
    const u = new WebUser(server.url);
    await u.start();
    const id = u.nextEventId();
    const first = await u.post({ type: 'text', text: '2', eventId: id });
    const again = await Promise.all([1, 2].map(() => u.post({ type: 'text', text: '2', eventId: id })));
    expect(first.json.duplicate).toBe(false);
    expect(again.map((r) => r.json.duplicate)).toEqual([true, true]);
    expect(JSON.stringify(again[0]!.json.replies)).toContain('Which commune');
    // Had the repeats been handled, "2" would have picked a commune.
    expect(await u.say('1')).toContain('Saved: Thị trấn Bắc Hà');
  });

  it('shows the current question after a reload', async () => {
    const u = new WebUser(server.url);
    await u.start();
    await u.say('1');
    const res = await fetch(`${server.url}/api/web/prompt`, { headers: { cookie: u.cookie! } });
    const body = (await res.json()) as { known: boolean; replies: Array<{ text: string }> };
    expect(body.known).toBe(true);
    expect(body.replies[0]!.text).toContain('Anh/Chị sống ở xã, thị trấn nào?');
  });

  it('answers malformed JSON with 400, a wrong shape with 400 naming the field, and an oversized body with 413', async () => {
    const post = (body: string) => fetch(`${server.url}/api/web/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('{"type": "text", ')).status).toBe(400);
    const wrong = await post(JSON.stringify({ type: 'text', eventId: 'short', text: 'hi' }));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { problems: string[] }).problems).toEqual([expect.stringContaining('eventId:')]);
    const big = await post(JSON.stringify({ type: 'text', eventId: 'abcdefgh', text: 'x'.repeat(20_000) }));
    expect(big.status).toBe(413);
  });

  it('answers a 5,000-character message with a friendly re-ask', async () => {
    const u = new WebUser(server.url);
    await u.start();
    expect(await u.say('x'.repeat(5000))).toContain('Xin trả lời bằng một số từ 1 đến 2');
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ok');
  });
});

describe('readiness', () => {
  it('is 503 when Redis cannot be reached', async () => {
    const server = await startServer({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
    await server.runtime.store.close();
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: Record<string, string> }).checks.redis).not.toBe('ok');
    await server.close().catch(() => undefined);
  });
});
