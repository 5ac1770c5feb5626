import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../../src/config';
import { parseZaloEvent } from '../../../src/channels/zalo/parseZaloEvent';
import { renderZaloReplies, splitZaloText, type ZaloTextKey } from '../../../src/channels/zalo/renderZaloReplies';
import { ZaloApiClient, ZaloApiError } from '../../../src/channels/zalo/ZaloApiClient';
import { MemoryZaloCoordination, RedisZaloCoordination, zaloApiRate } from '../../../src/channels/zalo/ZaloCoordination';
import { MemoryRateLimiter } from '../../../src/util/RateLimiter';
import { FileTokenStore, seedFingerprint, ZaloTokenManager } from '../../../src/channels/zalo/ZaloTokens';
import { verifyZaloSignature } from '../../../src/channels/zalo/verifyZaloSignature';
import { createLogger } from '../../../src/logger';
import { FakeZalo, FAKE_APP_ID, FAKE_APP_SECRET, newUserId, zaloEvents, zaloSignature } from '../../support/fakeZalo';
import { tempDir, testRedisUrl, uniquePrefix } from '../../support/harness';

describe('parseZaloEvent', () => {
  const user = '4558424660619243532';

  it('keeps long ids as strings and makes the event id from msg_id', () => {
    const r = parseZaloEvent('user_send_text', zaloEvents.text(user, 'quay lại', 'c6792f94f71be346ba09'));
    expect(r).toEqual({ ok: true, meaning: { kind: 'citizen', event: { channel: 'zalo', userId: user, eventId: 'zalo:c6792f94f71be346ba09', kind: 'text', text: 'quay lại' } } });
  });

  it('refuses an id sent as a bare number (its digits are already lost)', () => {
    const e = zaloEvents.text(user, 'x') as Record<string, unknown>;
    e.sender = { id: Number(user) }; // what JSON.parse makes of an unquoted long id
    expect(parseZaloEvent('user_send_text', e)).toEqual({ ok: false, problems: [expect.stringContaining('sender.id')] });
  });

  it('reads an image as a photo (its URL) and a location with string coordinates as numbers', () => {
    const img = parseZaloEvent('user_send_image', zaloEvents.image(user, 'http://f6.photo.talk.zdn.vn/123/abc.jpg'));
    expect(img.ok && img.meaning.kind === 'citizen' && img.meaning.event).toMatchObject({ kind: 'photo', fileRef: 'http://f6.photo.talk.zdn.vn/123/abc.jpg' });
    const loc = parseZaloEvent('user_send_location', zaloEvents.location(user, '10.7642473', '106.6564314'));
    expect(loc.ok && loc.meaning.kind === 'citizen' && loc.meaning.event).toMatchObject({ kind: 'location', latitude: 10.7642473, longitude: 106.6564314 });
    expect(parseZaloEvent('user_send_location', zaloEvents.location(user, '95', '106')).ok).toBe(false);
  });

  it('gives follow events a stable id from the event, the user and the timestamp', () => {
    const follow = zaloEvents.follow(user);
    const a = parseZaloEvent('follow', follow);
    const b = parseZaloEvent('follow', structuredClone(follow));
    expect(a).toEqual(b);
    expect(a.ok && a.meaning.kind === 'citizen' && a.meaning.event).toMatchObject({ kind: 'start', userId: user, eventId: expect.stringMatching(/^zalo:follow:[0-9a-f]{24}$/) });
    const later = parseZaloEvent('follow', { ...follow, timestamp: String(Number(follow.timestamp) + 1) });
    expect(later.ok && later.meaning.kind === 'citizen' && later.meaning.event.eventId).not.toBe(a.ok && a.meaning.kind === 'citizen' && a.meaning.event.eventId);
    // Event ids are logged: no user id in them.
    expect(JSON.stringify(a)).not.toMatch(new RegExp(`eventId[^,]*${user}`));
  });

  it('reads both documented shapes of user_submit_info, and one without a phone', () => {
    for (const e of [zaloEvents.submitInfoNested(user, '84912345678'), zaloEvents.submitInfoFlat(user, '84912345678')]) {
      const r = parseZaloEvent('user_submit_info', e);
      expect(r.ok && r.meaning.kind === 'citizen' && r.meaning.event).toMatchObject({ kind: 'contact', phone: '84912345678', name: 'Nguyễn Văn An' });
    }
    const noPhone = zaloEvents.submitInfoFlat(user, '') as { info: Record<string, unknown> };
    delete noPhone.info.phone;
    expect(parseZaloEvent('user_submit_info', noPhone)).toMatchObject({ ok: true, meaning: { kind: 'info-without-phone', userId: user } });
  });

  it('names unreadable messages, unfollow, withdraw, echoes and receipts', () => {
    expect(parseZaloEvent('user_send_sticker', zaloEvents.sticker(user))).toMatchObject({ ok: true, meaning: { kind: 'unreadable', userId: user } });
    expect(parseZaloEvent('unfollow', zaloEvents.unfollow(user))).toEqual({ ok: true, meaning: { kind: 'unfollow', userId: user, eventId: expect.stringMatching(/^zalo:unfollow:[0-9a-f]{24}$/) } });
    expect(parseZaloEvent('user_withdraw', zaloEvents.withdraw(user))).toEqual({ ok: true, meaning: { kind: 'withdraw', userId: user, eventId: expect.stringMatching(/^zalo:user_withdraw:[0-9a-f]{24}$/) } });
    expect(parseZaloEvent('oa_send_text', zaloEvents.oaSendText(user, 'f3af2263f0673c3f6570', '8309393969855402319'))).toEqual({
      ok: true,
      meaning: { kind: 'oa-echo', userId: user, messageId: 'f3af2263f0673c3f6570', text: 'Chào anh, em là cán bộ trạm y tế.', adminId: '8309393969855402319' },
    });
    expect(parseZaloEvent('user_seen_message', zaloEvents.seen(user, ['a']))).toEqual({ ok: true, meaning: { kind: 'ignored', eventName: 'user_seen_message' } });
  });
});

describe('verifyZaloSignature', () => {
  const raw = Buffer.from(JSON.stringify(zaloEvents.follow('123')));
  const ts = '1724921862647';
  const secret = 'oa-secret-Zq81mNb3x';

  it('accepts mac=<sha256(app_id + raw body + timestamp + OA secret key)>, with or without the prefix, in any case', () => {
    const sig = zaloSignature(raw.toString(), ts, secret, FAKE_APP_ID);
    expect(verifyZaloSignature(sig, FAKE_APP_ID, raw, ts, secret)).toBe(true);
    expect(verifyZaloSignature(sig.slice(4).toUpperCase(), FAKE_APP_ID, raw, ts, secret)).toBe(true);
  });

  it('refuses another secret, app id, timestamp, body, an HMAC, or garbage', () => {
    const sig = zaloSignature(raw.toString(), ts, secret, FAKE_APP_ID);
    expect(verifyZaloSignature(sig, FAKE_APP_ID, raw, ts, 'other-secret')).toBe(false);
    expect(verifyZaloSignature(sig, '1', raw, ts, secret)).toBe(false);
    expect(verifyZaloSignature(sig, FAKE_APP_ID, raw, '1724921862648', secret)).toBe(false);
    expect(verifyZaloSignature(sig, FAKE_APP_ID, Buffer.concat([raw, Buffer.from(' ')]), ts, secret)).toBe(false);
    const hmac = crypto.createHmac('sha256', secret).update(`${FAKE_APP_ID}${raw.toString()}${ts}`).digest('hex');
    expect(verifyZaloSignature(`mac=${hmac}`, FAKE_APP_ID, raw, ts, secret)).toBe(false);
    expect(verifyZaloSignature('mac=xyz', FAKE_APP_ID, raw, ts, secret)).toBe(false);
    expect(verifyZaloSignature(undefined, FAKE_APP_ID, raw, ts, secret)).toBe(false);
  });
});

describe('renderZaloReplies', () => {
  const t = (key: ZaloTextKey) => `<${key}>`;

  it('renders choices as a numbered text menu', () => {
    const out = renderZaloReplies(
      [{ kind: 'choices', text: 'Bạn dùng tiếng nào?', options: [{ id: 'l:vi', label: 'Tiếng Việt', number: 1 }, { id: 'l:en', label: 'English', number: 2 }] }],
      t,
    );
    expect(out).toEqual([{ kind: 'text', text: 'Bạn dùng tiếng nào?\n\n1. Tiếng Việt\n2. English' }]);
  });

  it('asks for a phone with a text and the request_user_info card', () => {
    expect(renderZaloReplies([{ kind: 'request-phone', text: 'Số điện thoại?', buttonLabel: 'Gửi số' }], t)).toEqual([
      { kind: 'text', text: 'Số điện thoại?\n\n<zalo.phoneHow>' },
      { kind: 'request-info', title: '<zalo.phoneCardTitle>', subtitle: '<zalo.phoneCardSubtitle>' },
    ]);
  });

  it('splits texts over 2,000 characters at line breaks, never inside a character', () => {
    const text = Array.from({ length: 120 }, (_, i) => `Dòng số ${i}: giữ khoảng cách 2 mét 👍`).join('\n');
    const pieces = splitZaloText(text);
    expect(pieces.length).toBe(3);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(2000);
    expect(pieces.join('\n')).toBe(text);
    const emoji = '👍'.repeat(1500);
    const parts = splitZaloText(emoji);
    expect(parts.join('')).toBe(emoji);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(2000);
    expect(splitZaloText('ngắn')).toEqual(['ngắn']);
  });
});

describe('what the Zalo processes share', () => {
  it('counts in-flight sends per person without going below zero, and remembers sent marks', async () => {
    const r = new Redis(testRedisUrl());
    const shared = new RedisZaloCoordination(r, uniquePrefix());
    try {
      for (const c of [shared, new MemoryZaloCoordination()]) {
        await c.beginSend('u1');
        await c.beginSend('u1');
        await c.endSend('u1', ['m1']);
        expect(await c.isSending('u1')).toBe(true);
        await c.endSend('u1', []);
        await c.endSend('u1', []); // one more end than begins (a mark that expired meanwhile)
        expect(await c.isSending('u1')).toBe(false);
        await c.beginSend('u1');
        expect(await c.isSending('u1')).toBe(true);
        expect(await c.wasSentByBot('m1')).toBe(true);
        expect(await c.wasSentByBot('m2')).toBe(false);
      }
    } finally {
      await r.quit();
    }
  });
});

describe('ZaloApiClient against the fake OA API', () => {
  const initial = { accessToken: 'acc-client-000001', refreshToken: 'ref-client-000001' };
  let fake: FakeZalo;
  let client: ZaloApiClient;
  beforeAll(async () => {
    fake = await new FakeZalo(initial).start();
    const coordination = new MemoryZaloCoordination();
    const log = createLogger('silent');
    const tokens = new ZaloTokenManager({
      oauth: { oauthRoot: fake.oauthRoot, appId: FAKE_APP_ID, appSecret: FAKE_APP_SECRET },
      store: new FileTokenStore(path.join(tempDir(), 'zalo-tokens.json')),
      coordination,
      log,
      initial,
      refreshAheadMs: 3600_000,
    });
    client = new ZaloApiClient({ apiRoot: fake.apiRoot, tokens, limiter: new MemoryRateLimiter(zaloApiRate(4000)), log, backoffMs: 10 });
  });
  afterAll(() => fake.stop());

  it('sends a text and returns the message id as a string', async () => {
    const user = newUserId();
    const r = await client.sendText(user, 'Xin chào');
    expect(typeof r.message_id).toBe('string');
    expect(r.user_id).toBe(user);
    expect(typeof r.sent_time).toBe('string');
  });

  it('turns error != 0 with HTTP 200 into a ZaloApiError carrying the code', async () => {
    const user = newUserId();
    fake.scriptedErrors.set(user, [-201]);
    const err = await client.sendText(user, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZaloApiError);
    expect((err as ZaloApiError).code).toBe(-201);
    expect((err as ZaloApiError).endpoint).toBe('/v3.0/oa/message/cs');
  });

  it('reads a user detail (ids and the DD/MM/YYYY date stay strings)', async () => {
    const user = newUserId();
    fake.userDetails.set(user, {
      user_id: user,
      user_id_by_app: '4604138790644222978',
      display_name: 'An',
      user_alias: '',
      is_sensitive: false,
      user_last_interaction_date: '06/07/2023',
      user_is_follower: true,
      avatar: 'https://s120-ava-talk.zadn.vn/a.jpg',
      avatars: { '120': 'https://s120-ava-talk.zadn.vn/a.jpg' },
      tags_and_notes_info: { notes: [''], tag_names: [] },
      shared_info: { address: '', city: '', district: '', phone: '84912345678', name: 'An' },
    });
    const d = await client.getUserDetail(user);
    expect(d.user_id).toBe(user);
    expect(d.shared_info?.phone).toBe('84912345678');
    expect(d.user_last_interaction_date).toBe('06/07/2023');
  });

  it('uploads an image as multipart field "file" and sends it by attachment_id', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const id = await client.uploadImage(png, 'poster.png', 'image/png');
    expect(id.length).toBeGreaterThan(10);
    expect(fake.uploads.at(-1)!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const user = newUserId();
    await client.sendImage(user, { attachmentId: id }, 'Mã QR');
    expect(fake.sent.at(-1)!.message).toEqual({ text: 'Mã QR', attachment: { type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'image', attachment_id: id }] } } });
  });

  it('asks for user info with one request_user_info element', async () => {
    const user = newUserId();
    await client.requestUserInfo(user, { title: 'Gửi số điện thoại', subtitle: 'Bấm để chia sẻ', imageUrl: 'https://example.gov.vn/logo.png' });
    expect(fake.sent.at(-1)!.message).toEqual({
      attachment: { type: 'template', payload: { template_type: 'request_user_info', elements: [{ title: 'Gửi số điện thoại', subtitle: 'Bấm để chia sẻ', image_url: 'https://example.gov.vn/logo.png' }] } },
    });
  });
});

describe('FileTokenStore', () => {
  it('round-trips a pair, replaces it atomically and leaves no temporary file', async () => {
    const dir = tempDir();
    const store = new FileTokenStore(path.join(dir, 'sub', 'zalo-tokens.json'));
    expect(await store.load()).toBeNull();
    const pair = { accessToken: 'a1', refreshToken: 'r1', expiresAt: Date.UTC(2026, 10, 26), obtainedAt: Date.UTC(2026, 10, 25), seed: 'abc' };
    await store.save(pair);
    await store.save({ ...pair, accessToken: 'a2', refreshToken: 'r2' });
    expect(await store.load()).toEqual({ ...pair, accessToken: 'a2', refreshToken: 'r2' });
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['zalo-tokens.json']);
  });

  it('names the file and what to do when it is unreadable', async () => {
    const file = path.join(tempDir(), 'zalo-tokens.json');
    fs.writeFileSync(file, '{not json');
    await expect(new FileTokenStore(file).load()).rejects.toThrow(/zalo-tokens\.json are not readable.*ZALO_REFRESH_TOKEN/);
  });
});

describe('Zalo configuration', () => {
  const on = { ZALO_APP_ID: '3349222483842580322', ZALO_ACCESS_TOKEN: 'acc-000000001', ZALO_REFRESH_TOKEN: 'ref-000000001', ZALO_APP_SECRET: 'secret-0001', ZALO_OA_SECRET_KEY: 'oa-secret-0001' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('is off without the app id and a token, on with them, with the documented defaults', () => {
    expect(loadConfig({}).zalo).toBeNull();
    expect(loadConfig({ ZALO_APP_ID: '123' }).zalo).toBeNull();
    const z = loadConfig(on).zalo!;
    expect(z.apiRoot).toBe('https://openapi.zalo.me');
    expect(z.oauthRoot).toBe('https://oauth.zaloapp.com');
    expect(z.rateLimitPerMinute).toBe(4000);
    expect(z.handoverQuietMs).toBe(30 * 60_000);
  });

  it('names what is missing, without showing secrets', () => {
    expect(problems({ ZALO_ACCESS_TOKEN: 'acc-000000001' })).toEqual([expect.stringMatching(/^ZALO_APP_ID: required when ZALO_ACCESS_TOKEN/)]);
    const p = problems({ ...on, ZALO_OA_SECRET_KEY: '', ZALO_APP_SECRET: '' });
    expect(p).toEqual([expect.stringMatching(/^ZALO_OA_SECRET_KEY: .*Webhook/), expect.stringMatching(/^ZALO_APP_SECRET: .*Secret Key/)]);
    const bad = problems({ ...on, ZALO_APP_ID: 'my-app', ZALO_ACCESS_TOKEN: 'short' });
    expect(bad.join('\n')).toMatch(/ZALO_APP_ID: expected the Zalo app id, digits only/);
    expect(bad.join('\n')).toMatch(/ZALO_ACCESS_TOKEN: .*\(value hidden\)/);
    expect(problems({ ...on, ZALO_TOKEN_REFRESH_AHEAD_MINUTES: '3000' })).toEqual([expect.stringMatching(/^ZALO_TOKEN_REFRESH_AHEAD_MINUTES: expected a whole number of minutes from 1 to 1440/)]);
  });
});

describe('ZaloTokenManager', () => {
  const initial = { accessToken: 'acc-ahead-0000001', refreshToken: 'ref-ahead-0000001' };
  let fake: FakeZalo;
  beforeEach(async () => {
    fake = await new FakeZalo(initial).start();
  });
  afterEach(() => fake.stop());

  function manager(store: FileTokenStore, now: () => number) {
    return new ZaloTokenManager({
      oauth: { oauthRoot: fake.oauthRoot, appId: FAKE_APP_ID, appSecret: FAKE_APP_SECRET },
      store,
      coordination: new MemoryZaloCoordination(),
      log: createLogger('silent'),
      initial,
      refreshAheadMs: 2 * 3600_000,
      clock: now,
    });
  }

  it('renews ahead of expiry, before the call, and stores the new pair first', async () => {
    const store = new FileTokenStore(path.join(tempDir(), 'zalo-tokens.json'));
    const now = Date.UTC(2026, 10, 25, 12);
    await store.save({ ...initial, expiresAt: now + 3 * 3600_000, obtainedAt: now - 22 * 3600_000, seed: seedFingerprint(initial.accessToken, initial.refreshToken) });
    let clock = now;
    const tokens = manager(store, () => clock);
    expect(await tokens.accessToken()).toBe(initial.accessToken);
    expect(fake.oauthCalls).toHaveLength(0);
    clock = now + 90 * 60_000; // 1.5 h before expiry: inside the 2 h window
    const renewed = await tokens.accessToken();
    expect(renewed).not.toBe(initial.accessToken);
    expect(fake.oauthCalls).toHaveLength(1);
    expect((await store.load())!.accessToken).toBe(renewed);
    expect((await store.load())!.expiresAt).toBe(clock + 90_000_000);
  });

  it('renews a pasted pair of unknown age at the background check, once, in single flight', async () => {
    const store = new FileTokenStore(path.join(tempDir(), 'zalo-tokens.json'));
    const tokens = manager(store, Date.now);
    await Promise.all([tokens.refreshIfDue(), tokens.refreshIfDue(), tokens.refreshIfDue()]);
    expect(fake.oauthCalls).toHaveLength(1);
    await tokens.refreshIfDue();
    expect(fake.oauthCalls).toHaveLength(1);
    expect((await store.load())!.refreshToken).toMatch(/^ref-1-/);
  });
});

describe('readable messages on Zalo', () => {
  it('no message is longer than about 600 characters: a long reply is cut at its paragraphs', () => {
    const long = Array.from({ length: 8 }, (_, i) => `Đoạn ${i + 1}: ${'chữ '.repeat(40).trim()}.`).join('\n\n');
    const out = renderZaloReplies([{ kind: 'text', text: long }], (k) => k);
    expect(out.length).toBeGreaterThan(1);
    for (const m of out) {
      expect(m.kind).toBe('text');
      if (m.kind === 'text') {
        expect(m.text.length).toBeLessThanOrEqual(600);
        expect(m.text.startsWith('Đoạn')).toBe(true);
      }
    }
  });
});
