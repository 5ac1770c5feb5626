import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { RecipientOutsideWindowError, RecipientUnreachableError } from '../src/outbound/Outbound';
import { FakeZalo, newMsgId, newUserId, postZaloEvent, zaloEnv, zaloEvents, zaloSignature } from './support/fakeZalo';
import { flowsWithFixtures, FIXTURES, startServer, tempDir, testRedisUrl, uniquePrefix } from './support/harness';

const INITIAL = { accessToken: 'acc-initial-8f3a1c', refreshToken: 'ref-initial-5d2e9b' };
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

/** The real flows plus the `demo` fixture flow (it asks for a phone number), with their texts. */
function withDemoFlow(): Record<string, string> {
  const locales = tempDir('cgb-locales-');
  for (const l of ['vi', 'en']) {
    fs.mkdirSync(path.join(locales, l));
    for (const dir of [path.join(PROJECT_ROOT, 'locales', l), path.join(FIXTURES, 'locales', l)]) {
      for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(locales, l, f));
    }
  }
  return { FLOWS_DIR: flowsWithFixtures(), LOCALES_DIR: locales };
}

describe.each([
  ['in-memory', false],
  ['Redis', true],
])('Zalo OA webhook through the real app (%s)', (_name, useRedis) => {
  let fake: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    fake = await new FakeZalo(INITIAL).start();
    server = await startServer({
      ...zaloEnv(fake, INITIAL),
      ...withDemoFlow(),
      ...(useRedis ? { REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() } : {}),
      ZALO_HANDOVER_QUIET_MINUTES: '30',
    });
  });
  afterAll(async () => {
    await server.close();
    await fake.stop();
  });

  it('refuses a bad or missing signature with 401 and sends nothing', async () => {
    const user = newUserId();
    const event = zaloEvents.follow(user);
    const raw = JSON.stringify(event);
    expect((await postZaloEvent(server.url, event, { signature: zaloSignature(raw, String(event.timestamp), 'wrong-secret') })).status).toBe(401);
    expect((await postZaloEvent(server.url, event, { signature: null })).status).toBe(401);
    // Signed over other bytes (the same JSON, re-serialised with spaces): the raw body is what counts.
    expect((await postZaloEvent(server.url, event, { raw: JSON.stringify(event, null, 1), signature: zaloSignature(raw, String(event.timestamp)) })).status).toBe(401);
    await settle();
    expect(fake.textsTo(user)).toEqual([]);
  });

  it('reads the raw body whatever the content type says', async () => {
    const user = newUserId();
    const event = zaloEvents.follow(user);
    const raw = JSON.stringify(event);
    const res = await fetch(`${server.url}/webhooks/zalo`, { method: 'POST', headers: { 'x-zevent-signature': zaloSignature(raw, String(event.timestamp)) }, body: Buffer.from(raw) });
    expect(res.status).toBe(200);
    await fake.waitForMessages(user, 2);
  });

  it('accepts the signature without the mac= prefix too', async () => {
    const user = newUserId();
    const event = zaloEvents.follow(user);
    const sig = zaloSignature(JSON.stringify(event), String(event.timestamp)).slice(4);
    expect((await postZaloEvent(server.url, event, { signature: sig })).status).toBe(200);
    await fake.waitForMessages(user, 1);
  });

  it('greets a new follower through POST /v3.0/oa/message/cs with the access_token header, then "1" chooses the first option', async () => {
    const user = newUserId();
    const res = await postZaloEvent(server.url, zaloEvents.follow(user));
    expect(res.status).toBe(200);
    const greeting = (await fake.waitForMessages(user, 2)).join('\n');
    expect(greeting).toContain('Xin chào!');
    expect(greeting).toContain('1. Tiếng Việt');
    expect(greeting).toContain('2. English');
    const first = fake.sent.find((m) => m.userId === user)!;
    expect(first.accessToken).toBe(INITIAL.accessToken);
    expect(Object.keys(first.message)).toEqual(['text']);

    expect((await postZaloEvent(server.url, zaloEvents.text(user, '1'))).status).toBe(200);
    const after = await fake.waitForMessages(user, 3);
    expect(after[2]).toContain('Anh/Chị sống ở xã, thị trấn nào?');
    expect(after[2]).toMatch(/\n1\. Thị trấn Bắc Hà/);
  });

  it('answers the same msg_id three times (also at once) with one reply', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    const event = zaloEvents.text(user, '2');
    const results = await Promise.all([1, 2, 3].map(() => postZaloEvent(server.url, event)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await settle(500);
    const texts = fake.textsTo(user);
    expect(texts).toHaveLength(3);
    expect(texts[2]).toContain('Which commune');
    // A later redelivery (Zalo retries after 30 s, 5 min, ...) has no effect either.
    expect((await postZaloEvent(server.url, event)).status).toBe(200);
    await settle();
    expect(fake.textsTo(user)).toHaveLength(3);
  });

  it('answers a sticker (and voice, files ...) politely and asks the current question again', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    expect((await postZaloEvent(server.url, zaloEvents.sticker(user))).status).toBe(200);
    const texts = await fake.waitForMessages(user, 4);
    expect(texts[2]).toContain('chưa đọc được nhãn dán');
    expect(texts[3]).toContain('1. Tiếng Việt');
  });

  it('ignores delivery and seen receipts and events it does not use', async () => {
    const user = newUserId();
    for (const e of [zaloEvents.seen(user, [newMsgId()]), zaloEvents.received(user, newMsgId()), { ...zaloEvents.follow(user), event_name: 'add_user_to_tag' }]) {
      expect((await postZaloEvent(server.url, e)).status).toBe(200);
    }
    await settle();
    expect(fake.textsTo(user)).toEqual([]);
  });

  it('answers signed malformed JSON with 400, a wrong shape with 400 naming the field, and an oversized body with 413', async () => {
    const malformed = `{"timestamp": "${Date.now()}", "event_name": `;
    const bad = await fetch(`${server.url}/webhooks/zalo`, { method: 'POST', headers: { 'x-zevent-signature': zaloSignature(malformed, malformed.slice(15, 28)) }, body: malformed });
    expect(bad.status).toBe(400);
    const user = newUserId();
    const event = zaloEvents.text(user, 'hi') as Record<string, unknown>;
    event.message = { text: 'hi' };
    const wrong = await postZaloEvent(server.url, event);
    expect(wrong.status).toBe(400);
    expect(wrong.json.problems).toEqual([expect.stringContaining('message.msg_id')]);
    const big = await fetch(`${server.url}/webhooks/zalo`, { method: 'POST', headers: { 'x-zevent-signature': 'mac=00', 'content-type': 'application/json' }, body: 'x'.repeat(1_100_000) });
    expect(big.status).toBe(413);
  });

  it('offers the name and phone of user_submit_info (both shapes) to the flow that asked, after a request_user_info card', async () => {
    for (const shape of ['submitInfoNested', 'submitInfoFlat'] as const) {
      const user = newUserId();
      await postZaloEvent(server.url, zaloEvents.follow(user));
      await fake.waitForMessages(user, 2);
      await postZaloEvent(server.url, zaloEvents.text(user, '1'));
      await fake.waitForMessages(user, 3);
      await postZaloEvent(server.url, zaloEvents.text(user, 'ban pho'));
      await fake.waitForMessages(user, 4);
      // Onboarding on Zalo asks about the commune's announcements; not now.
      await postZaloEvent(server.url, zaloEvents.text(user, '2'));
      const before = (await fake.waitForMessages(user, 6)).length;
      // A deep link into the demo flow's phone step (as a QR code or a menu entry would open it).
      await server.runtime.pipeline.handle({ channel: 'zalo', userId: user, eventId: `t-${user}-${shape}`, kind: 'start', payload: 'demo__phone' }, async (replies) => {
        await server.runtime.outbound.send('zalo', user, replies);
      });
      const asked = (await fake.waitForMessages(user, before + 2)).slice(before);
      expect(asked[0]).toContain('Số điện thoại?');
      expect(asked[1]).toBe('[request_user_info]');
      const card = fake.sent.filter((m) => m.userId === user).at(-1)!.message as { attachment: { payload: { elements: Array<{ title: string; subtitle: string }> } } };
      expect(card.attachment.payload.elements).toHaveLength(1);
      expect(card.attachment.payload.elements[0]!.title).toBe('Gửi số điện thoại');

      expect((await postZaloEvent(server.url, zaloEvents[shape](user, '84912345678'))).status).toBe(200);
      const next = (await fake.waitForMessages(user, before + 3)).slice(before + 2);
      expect(next[0]).toContain('Bạn có triệu chứng nào?');
      const session = await server.runtime.store.peek(`zalo:${user}`);
      expect(session?.answers.phone).toBe('+84912345678');
    }
  });

  it('hands a shared location to the flow that asked, with the coordinates as numbers', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await postZaloEvent(server.url, zaloEvents.text(user, '1'));
    await postZaloEvent(server.url, zaloEvents.text(user, 'ban pho'));
    await fake.waitForMessages(user, 4);
    // Onboarding on Zalo asks about the commune's announcements; not now.
    await postZaloEvent(server.url, zaloEvents.text(user, '2'));
    const before = (await fake.waitForMessages(user, 6)).length;
    await server.runtime.pipeline.handle({ channel: 'zalo', userId: user, eventId: `t-${user}-where`, kind: 'start', payload: 'demo__where' }, async (replies) => {
      await server.runtime.outbound.send('zalo', user, replies);
    });
    const asked = (await fake.waitForMessages(user, before + 1)).slice(before);
    expect(asked[0]).toContain('Bạn ở đâu?');
    expect(asked[0]).toContain('chọn “Vị trí”');
    expect(asked[0]).toContain('1. Bỏ qua');
    expect((await postZaloEvent(server.url, zaloEvents.location(user, '22.5395', '104.2911'))).status).toBe(200);
    await fake.waitForMessages(user, before + 2);
    const session = await server.runtime.store.peek(`zalo:${user}`);
    expect(session?.answers.where).toEqual({ latitude: 22.5395, longitude: 104.2911 });
  });

  it('reads the phone from the user detail when user_submit_info comes without one, and asks to type it when there is none', async () => {
    const withDetail = newUserId();
    const without = newUserId();
    fake.userDetails.set(withDetail, { user_id: withDetail, display_name: 'An', user_is_follower: true, shared_info: { phone: '0912345678', name: 'An' } });
    for (const user of [withDetail, without]) {
      await postZaloEvent(server.url, zaloEvents.follow(user));
      await postZaloEvent(server.url, zaloEvents.text(user, '1'));
      await postZaloEvent(server.url, zaloEvents.text(user, 'ban pho'));
      await fake.waitForMessages(user, 4);
      // Onboarding on Zalo asks about the commune's announcements; not now.
      await postZaloEvent(server.url, zaloEvents.text(user, '2'));
      const before = (await fake.waitForMessages(user, 6)).length;
      await server.runtime.pipeline.handle({ channel: 'zalo', userId: user, eventId: `t-${user}-phone`, kind: 'start', payload: 'demo__phone' }, async (replies) => {
        await server.runtime.outbound.send('zalo', user, replies);
      });
      await fake.waitForMessages(user, before + 2);
      const info = zaloEvents.submitInfoFlat(user, '') as { info: Record<string, unknown> };
      delete info.info.phone;
      expect((await postZaloEvent(server.url, info)).status).toBe(200);
      const next = (await fake.waitForMessages(user, before + 3)).slice(before + 2);
      if (user === withDetail) expect(next[0]).toContain('Bạn có triệu chứng nào?');
      else expect(next[0]).toContain('Trợ lý chưa nhận được số điện thoại');
    }
    expect((await server.runtime.store.peek(`zalo:${withDetail}`))?.answers.phone).toBe('+84912345678');
  });

  it('marks an unfollower unreachable (sends to them fail without an API call) until they follow again', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    expect((await postZaloEvent(server.url, zaloEvents.unfollow(user))).status).toBe(200);
    expect(await server.runtime.reachability.isReachable('zalo', user)).toBe(false);
    const calls = fake.apiCalls.length;
    await expect(server.runtime.outbound.send('zalo', user, [{ kind: 'text', text: 'Thông báo' }])).rejects.toBeInstanceOf(RecipientUnreachableError);
    expect(fake.apiCalls.length).toBe(calls);
    await postZaloEvent(server.url, zaloEvents.follow(user));
    expect(await server.runtime.reachability.isReachable('zalo', user)).toBe(true);
  });

  it('deletes the person\'s data on user_withdraw', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    expect(await server.runtime.store.peek(`zalo:${user}`)).not.toBeNull();
    expect((await postZaloEvent(server.url, zaloEvents.withdraw(user))).status).toBe(200);
    expect(await server.runtime.store.peek(`zalo:${user}`)).toBeNull();
  });

  it('ignores the echoes of its own messages, but stays quiet for a person an OA admin writes to by hand', async () => {
    const user = newUserId();
    await postZaloEvent(server.url, zaloEvents.follow(user));
    await fake.waitForMessages(user, 2);
    const own = fake.sent.filter((m) => m.userId === user);
    for (const m of own) expect((await postZaloEvent(server.url, zaloEvents.oaSendText(user, m.messageId))).status).toBe(200);
    // Were an echo's msg_id ever to differ from the id the send answered with, its text still tells it is ours.
    for (const m of own) {
      const echo = zaloEvents.oaSendText(user, newMsgId());
      echo.message.text = m.message.text as string;
      expect((await postZaloEvent(server.url, echo)).status).toBe(200);
    }
    await settle();
    await postZaloEvent(server.url, zaloEvents.text(user, '1'));
    await fake.waitForMessages(user, 3);

    // An admin types in the OA inbox: the echo carries a message id this bot never sent.
    expect((await postZaloEvent(server.url, zaloEvents.oaSendText(user, newMsgId(), '8309393969855402319'))).status).toBe(200);
    await settle();
    expect((await postZaloEvent(server.url, zaloEvents.text(user, '1'))).status).toBe(200);
    await settle(500);
    expect(fake.textsTo(user)).toHaveLength(3);
  });

  it('tells a send outside the 7-day window (-230) apart: not retried, not unreachable (the person is back when they write)', async () => {
    const user = newUserId();
    fake.scriptedErrors.set(user, [-230]);
    const calls = fake.apiCalls.length;
    await expect(server.runtime.outbound.send('zalo', user, [{ kind: 'text', text: 'Thông báo' }])).rejects.toBeInstanceOf(RecipientOutsideWindowError);
    expect(fake.apiCalls.length).toBe(calls + 1);
    expect(await server.runtime.reachability.isReachable('zalo', user)).toBe(true);
    // Writing to the OA opens the window again: the next send goes through.
    await postZaloEvent(server.url, zaloEvents.text(user, 'xin chào'));
    await fake.waitForMessages(user, 1);
    await server.runtime.outbound.send('zalo', user, [{ kind: 'text', text: 'Thông báo 2' }]);
    expect(fake.textsTo(user)).toContain('Thông báo 2');
  });

  it('backs off on -32 and then delivers', async () => {
    const user = newUserId();
    fake.scriptedErrors.set(user, [-32]);
    await server.runtime.outbound.send('zalo', user, [{ kind: 'text', text: 'Thông báo' }]);
    expect(fake.textsTo(user)).toEqual(['Thông báo']);
    // The refused attempt and the one that went through.
    expect(fake.apiCalls.filter((c) => c.path === '/v3.0/oa/message/cs').slice(-2).map((c) => c.error)).toEqual([-32, 0]);
  });

  it('splits a text longer than 2,000 characters and sends an image through the media template', async () => {
    const user = newUserId();
    const long = Array.from({ length: 300 }, (_, i) => `Dòng ${i + 1}: rửa tay, đeo khẩu trang.`).join('\n');
    await server.runtime.outbound.send('zalo', user, [
      { kind: 'text', text: long },
      { kind: 'image', url: 'https://example.gov.vn/5k.png', caption: 'Thông điệp 5K' },
    ]);
    const sent = fake.sent.filter((m) => m.userId === user);
    const texts = sent.filter((m) => !m.message.attachment).map((m) => m.message.text as string);
    expect(texts.length).toBeGreaterThan(1);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(2000);
    expect(texts.join('\n')).toBe(long);
    const image = sent.at(-1)!.message as { text: string; attachment: { type: string; payload: { template_type: string; elements: Array<Record<string, string>> } } };
    expect(image.text).toBe('Thông điệp 5K');
    expect(image.attachment).toEqual({ type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'image', url: 'https://example.gov.vn/5k.png' }] } });
  });
});

describe('Zalo webhook timing', () => {
  it('answers 200 once the event is committed, before the replies are sent (Zalo wants an answer within 2 s)', async () => {
    const fake = await new FakeZalo(INITIAL).start();
    try {
      const server = await startServer({ ...zaloEnv(fake, INITIAL), REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
      const user = newUserId();
      const release = fake.holdSends();
      try {
        // Zalo's API holds every send: the webhook answers all the same.
        expect((await postZaloEvent(server.url, zaloEvents.follow(user))).status).toBe(200);
        expect(fake.textsTo(user)).toEqual([]);
      } finally {
        release();
      }
      // Committed before the answer: a redelivery now is a duplicate, and the replies still arrive, once.
      expect((await server.runtime.store.peek(`zalo:${user}`))?.flow).toBe('onboarding');
      await fake.waitForMessages(user, 2);
      // Shutting down waits for replies that are still being sent.
      await postZaloEvent(server.url, zaloEvents.text(user, '1'));
      await server.close();
      expect(fake.textsTo(user)).toHaveLength(3);
    } finally {
      await fake.stop();
    }
  });
});

describe('Zalo webhook failures', () => {
  it('answers 5xx when the event cannot be committed, so that Zalo redelivers', async () => {
    const fake = await new FakeZalo(INITIAL).start();
    try {
      const server = await startServer({ ...zaloEnv(fake, INITIAL), REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });
      await server.runtime.store.close();
      const user = newUserId();
      const res = await postZaloEvent(server.url, zaloEvents.text(user, '1'));
      expect(res.status).toBeGreaterThanOrEqual(500);
      await settle();
      expect(fake.textsTo(user)).toEqual([]);
      await server.close().catch(() => undefined);
    } finally {
      await fake.stop();
    }
  });
});
