import crypto from 'node:crypto';
import fc from 'fast-check';
import { FakeBotApi } from './support/fakeBotApi';
import { FakeZalo, FAKE_APP_ID, newUserId, zaloEnv, zaloEvents, zaloSignature } from './support/fakeZalo';
import { startServer } from './support/harness';
import { callbackUpdate, groupTextUpdate, myChatMemberUpdate, photoUpdate, textUpdate } from './support/telegramUpdates';

/*
 * Property-based fuzzing of every door of the server: whatever arrives (arbitrary JSON, deep nesting, huge strings,
 * invalid UTF-8, lone surrogates, unknown update kinds, wrong types in known fields), the answer is never a 5xx, the
 * server keeps running, and nothing is stored from a request that is not signed or not authenticated.
 * `npm test` runs 10,000 payloads per door; `npm run fuzz` runs FUZZ_RUNS (default 100,000).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const CONCURRENCY = 32;
/** Time for one door's run: about a millisecond per payload here, with room for a busy machine. */
const TIMEOUT = 60_000 + RUNS * 10;
const TOKEN = '123456789:AAF1x-fuzzing-test-token-abcdefghij';
const SECRET = 'fuzzing_webhook_secret';
const ADMIN = 'admin-token-for-the-fuzzing-tests';

type Body = string | Buffer;

/** Strings that have broken parsers and databases before. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff', '%00', '../../etc/passwd', '<script>alert(1)</script>', "'; DROP TABLE records; --", '9'.repeat(400), '-1', '1e308', 'NaN', '__proto__', 'constructor'),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 2 ** 31, 2 ** 53 + 1, 9999999999, [], {}, { __proto__: { admin: true } }) },
);

/** Sets the value at a random path of a real-shaped payload: wrong types in known fields. */
function mutate(template: unknown, choice: number, replacement: unknown): unknown {
  const copy = structuredClone(template) as Record<string, unknown>;
  const paths: Array<{ holder: Record<string, unknown>; key: string }> = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      paths.push({ holder: node as Record<string, unknown>, key: k });
      walk(v);
    }
  };
  walk(copy);
  const at = paths[choice % Math.max(paths.length, 1)];
  if (at) at.holder[at.key] = replacement;
  return copy;
}

/** Raw bodies: JSON of any shape, mutated real payloads, deep nesting, huge strings, bytes that are not UTF-8. */
function bodies(templates: () => unknown[], extra: fc.Arbitrary<unknown>[] = []): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.nat(), fc.nat(200), value).map(([t, c, v]) => JSON.stringify(mutate(pick(templates(), t), c, v))) },
    { weight: 4, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 4 }), ...extra).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.constantFrom(4_000, 20_000, 70_000, 1_100_000).map((n) => JSON.stringify({ update_id: 1, message: { text: 'x'.repeat(n) } })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([t, b]) => Buffer.concat([Buffer.from(JSON.stringify(pick(templates(), t)).slice(0, -2)), Buffer.from(b), Buffer.from('"}')])) },
  );
}

/** encodeURIComponent, also for lone surrogates (sent as their raw UTF-8 bytes, as a hostile client would). */
function encodePath(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

function pick<T>(xs: T[], n: number): T {
  return xs[n % xs.length]!;
}

/** Sends every body with `CONCURRENCY` in flight; returns the statuses, and throws naming the first 5xx. */
async function sendAll<T>(items: T[], send: (item: T) => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const status = await send(item);
      if (status >= 500) throw new Error(`answered ${status} to: ${String(Buffer.isBuffer(item) ? item.toString('hex') : JSON.stringify(item)).slice(0, 500)}`);
      statuses.push(status);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return statuses;
}

describe('fuzzing every door of the server', () => {
  let bot: FakeBotApi;
  let zalo: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;
  const INITIAL = { accessToken: 'fuzz-access-token-0001', refreshToken: 'fuzz-refresh-token-0001' };

  beforeAll(async () => {
    bot = await FakeBotApi.start(TOKEN);
    bot.recordCalls = false;
    zalo = await new FakeZalo(INITIAL).start();
    server = await startServer({
      ...zaloEnv(zalo, INITIAL),
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: bot.url,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: 'https://bot.bacha.example.gov.vn',
      OFFICIALS_TELEGRAM_CHAT_ID: '-1002000000999',
      ADMIN_TOKEN: ADMIN,
      WEB_REQUESTS_PER_MINUTE_PER_ADDRESS: '100000000',
      WEB_REQUESTS_PER_MINUTE_PER_CHAT: '100000000',
      WEB_NEW_CHATS_PER_HOUR_PER_ADDRESS: '100000000',
    });
  }, 30_000);
  afterAll(async () => {
    await server.close();
    await zalo.stop();
    await bot.close();
  });

  const post = async (path: string, body: Body, headers: Record<string, string>) => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    await res.arrayBuffer();
    return res.status;
  };
  const stored = async () => {
    const [row] = await server.runtime.db.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM records)::int AS records, (SELECT count(*) FROM notices)::int AS notices, (SELECT count(*) FROM broadcasts)::int AS broadcasts,
              (SELECT count(*) FROM subscriptions)::int AS subscriptions, (SELECT count(*) FROM app_installs)::int AS installs`,
    );
    return row!;
  };
  const alive = async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

  const telegramTemplates = () => {
    const chat = 700000 + crypto.randomInt(1000);
    return [
      textUpdate(chat, '/start'),
      textUpdate(chat, '/start declaration__submit'),
      textUpdate(chat, '1'),
      callbackUpdate(chat, 'main:declaration'),
      callbackUpdate(-1002000000999, 'rec:ack:1', undefined, 'group', 5),
      groupTextUpdate(-1002000000999, 5, '/thongbao'),
      myChatMemberUpdate(-1002000000999, 'kicked'),
      photoUpdate(chat, ['a', 'b', 'c']),
      { update_id: crypto.randomInt(1e9), edited_message: { text: 'x' }, business_connection: {} },
    ];
  };
  const zaloTemplates = () => {
    const user = newUserId();
    return [zaloEvents.text(user, 'xin chào'), zaloEvents.follow(user), zaloEvents.withdraw(user), zaloEvents.sticker(user), zaloEvents.location(user, '22.5', '104.3'), zaloEvents.submitInfoFlat(user, '0912345678'), { app_id: FAKE_APP_ID, event_name: 'user_send_unknown_kind', timestamp: String(Date.now()) }];
  };

  it(`/webhooks/telegram with a wrong or missing secret: always 401, nothing stored (${RUNS / 5} payloads)`, async () => {
    const before = await stored();
    const items = fc.sample(fc.tuple(bodies(telegramTemplates), fc.option(nasty.filter((s) => /^[\x21-\x7e]*$/.test(s) && s !== SECRET))), RUNS / 5);
    const statuses = await sendAll(items, ([body, secret]) => post('/webhooks/telegram', body, secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }));
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(await stored()).toEqual(before);
    await alive();
  }, TIMEOUT);

  it(`/webhooks/telegram with the secret: never a 5xx (${RUNS} payloads)`, async () => {
    const items = fc.sample(bodies(telegramTemplates), RUNS);
    const statuses = await sendAll(items, (body) => post('/webhooks/telegram', body, { 'x-telegram-bot-api-secret-token': SECRET }));
    expect(statuses.every((s) => [200, 400, 413].includes(s))).toBe(true);
    await alive();
  }, TIMEOUT);

  it(`/webhooks/zalo unsigned or wrongly signed: never a 5xx, nothing stored (${RUNS} payloads)`, async () => {
    const before = await stored();
    const items = fc.sample(fc.tuple(bodies(zaloTemplates), fc.option(nasty.filter((s) => /^[\x21-\x7e]*$/.test(s)))), RUNS);
    const statuses = await sendAll(items, ([body, signature]) => post('/webhooks/zalo', body, signature === null ? {} : { 'x-zevent-signature': `mac=${signature}` }));
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect(await stored()).toEqual(before);
    await alive();
  }, TIMEOUT);

  it(`/webhooks/zalo signed: never a 5xx (${RUNS} payloads)`, async () => {
    const items = fc.sample(bodies(zaloTemplates), RUNS);
    const statuses = await sendAll(items, (body) => {
      const raw = Buffer.isBuffer(body) ? body.toString('latin1') : body;
      const timestamp = /"timestamp":"?(\d+)/.exec(raw)?.[1] ?? '';
      return post('/webhooks/zalo', body, { 'x-zevent-signature': zaloSignature(raw, timestamp) });
    });
    expect(statuses.length).toBe(RUNS);
    await alive();
  }, TIMEOUT);

  it(`the web chat API: never a 5xx (${RUNS} payloads)`, async () => {
    const webTemplates = () => [
      { type: 'start', eventId: crypto.randomBytes(6).toString('hex'), payload: 'deletedata__erase' },
      { type: 'text', eventId: crypto.randomBytes(6).toString('hex'), text: '1' },
      { type: 'choice', eventId: crypto.randomBytes(6).toString('hex'), optionId: 'main:declaration' },
      { type: 'location', eventId: crypto.randomBytes(6).toString('hex'), latitude: 22.5, longitude: 104.3 },
    ];
    const cookie = fc.option(fc.oneof(nasty.map((s) => `cgb_chat=${encodePath(s)}`), fc.constant(`cgb_chat=${'a'.repeat(30)}.${'b'.repeat(43)}`)));
    const items = fc.sample(fc.tuple(bodies(webTemplates), cookie, fc.boolean()), RUNS);
    const statuses = await sendAll(items, async ([body, c, asPrompt]) => {
      const headers: Record<string, string> = c === null ? {} : { cookie: c };
      if (asPrompt) {
        const res = await fetch(`${server.url}/api/web/prompt?userId=${encodePath(String(body).slice(0, 100))}`, { headers });
        await res.arrayBuffer();
        return res.status;
      }
      return post('/api/web/events', body, headers);
    });
    expect(statuses.every((s) => s < 500)).toBe(true);
    await alive();
  }, TIMEOUT);

  it(`/api/broadcasts: unauthenticated always 401 and nothing stored; authenticated never a 5xx (${RUNS} payloads, half each)`, async () => {
    const before = await stored();
    const broadcastTemplates = () => [{ topic: 'news', communes: ['ban-pho'], text: { vi: 'Thông báo thử nghiệm.', en: 'A test notice.' }, requestedBy: 'fuzz' }];
    const paths = fc.oneof(fc.constant('/api/broadcasts'), nasty.map((s) => `/api/broadcasts/${encodePath(s)}`), nasty.map((s) => `/api/broadcasts/${encodePath(s)}/cancel`));
    const auth = fc.option(fc.oneof(nasty.map((s) => `Bearer ${s}`), fc.constant(`Bearer ${ADMIN}x`), fc.constant(ADMIN)));
    const unauthenticated = fc.sample(fc.tuple(bodies(broadcastTemplates), paths, auth, fc.boolean()), RUNS / 2);
    const refused = await sendAll(unauthenticated, async ([body, path, a, asGet]) => {
      const headers: Record<string, string> = a === null ? {} : { authorization: a.replace(/[^\x20-\x7e]/g, '') };
      if (asGet) {
        const res = await fetch(`${server.url}${path}`, { headers });
        await res.arrayBuffer();
        return res.status;
      }
      return post(path, body, headers);
    });
    expect(refused.every((s) => s === 401 || s === 404)).toBe(true);
    expect(await stored()).toEqual(before);

    // Authenticated: mostly malformed bodies (a valid one creates a broadcast, as it should).
    const authenticated = fc.sample(fc.tuple(bodies(broadcastTemplates), paths, fc.boolean()), RUNS / 2);
    const statuses = await sendAll(authenticated, async ([body, path, asGet]) => {
      const headers = { authorization: `Bearer ${ADMIN}` };
      if (asGet) {
        const res = await fetch(`${server.url}${path}`, { headers });
        await res.arrayBuffer();
        return res.status;
      }
      return post(path, body, headers);
    });
    expect(statuses.every((s) => s < 500)).toBe(true);
    await alive();
  }, TIMEOUT);
});
