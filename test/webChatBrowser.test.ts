import zlib from 'node:zlib';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { launchChromium } from './support/browser';
import { startServer, testRedisUrl, uniquePrefix, WebUser } from './support/harness';

const PHONE = { width: 360, height: 640 };
/** The smallest PNG (one pixel). */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** The web chat in a real phone-sized browser (Chromium at /usr/bin/chromium, driven by playwright-core). */
describe('the web chat on a phone', () => {
  const redis = new Redis(testRedisUrl());
  const prefix = uniquePrefix();
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await redis.quit();
  });

  it("never acts on ?start= before the person presses something; the identity cookie is out of the page's reach", async () => {
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    const posts: string[] = [];
    const violations: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    try {
      await page.goto(`${server.url}/?start=deletedata__erase`);
      const start = page.getByRole('button', { name: 'Bắt đầu / Start' });
      await start.waitFor();
      await page.waitForTimeout(300);
      expect(posts).toEqual([]);
      expect(await redis.keys(`${prefix}s:*`)).toEqual([]);

      await start.click();
      await page.getByText('Tiếng Việt').first().waitFor();
      expect(posts).toHaveLength(1);
      expect(await page.evaluate('document.cookie')).not.toContain('cgb_chat');
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === 'cgb_chat')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      // The link's flow waits for onboarding; nothing was erased or stored beyond the session.
      expect(await redis.keys(`${prefix}s:*`)).toHaveLength(1);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  }, 30_000);

  /** Someone who chose Vietnamese and Bản Phố over HTTP (quicker than clicking), then opens the page as them. */
  async function onboarded(): Promise<WebUser> {
    const u = new WebUser(server.url);
    await u.start();
    await u.say('1');
    expect(await u.say('ban pho')).toContain('Anh/Chị cần gì?');
    return u;
  }

  async function openAs(user: WebUser | null, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    if (user) {
      const [name, value] = user.cookie!.split(/=(.*)/s) as [string, string];
      await context.addCookies([{ name, value, url: server.url }]);
    }
    const page = await context.newPage();
    await page.goto(server.url + path);
    return { context, page };
  }

  async function type(page: Page, text: string): Promise<void> {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  /** Whether the element lies wholly inside the visible part of the chat log. */
  async function inView(page: Page, selector: string, text: string): Promise<boolean> {
    const log = (await page.locator('#log').boundingBox())!;
    const box = (await page.locator(selector, { hasText: text }).last().boundingBox())!;
    return box.y >= log.y - 1 && box.y + box.height <= log.y + log.height + 1 && log.y + log.height <= PHONE.height;
  }
  const storedItems = (page: Page) => page.evaluate<number>('localStorage.length + sessionStorage.length');

  it("a declaration's outcome is in view on a 360×640 phone, the menu after it waits behind 'Về menu'; a tap updates a multi-choice question in place and a typed number adds to it", async () => {
    const u = await onboarded();
    await u.send({ type: 'start', payload: 'declaration' });
    // '2': the commune station's form (1 is the national declaration on tokhaiyte.vn).
    for (const answer of ['2', '1', 'Lò Văn Minh', '1985', '1', '0912 345 678', '1', 'Thôn Na Lang']) await u.say(answer);
    const { context, page } = await openAs(u);
    try {
      // After the reload the current question is drawn once.
      await page.locator('.msg.bot', { hasText: 'triệu chứng' }).first().waitFor();
      expect(await page.locator('.options').count()).toBe(1);
      await page.locator('.options button', { hasText: /^1\. / }).click();
      await page.locator('.options button.selected').waitFor();
      // In place: still one question and no bubble of the person's.
      expect(await page.locator('.options').count()).toBe(1);
      expect(await page.locator('.msg.me').count()).toBe(0);
      await type(page, '2');
      await page.locator('.msg.me', { hasText: '1, 2' }).waitFor();
      await page.locator('.msg.bot', { hasText: 'dấu hiệu' }).waitFor();
      for (const answer of ['4', '3', '3', '5', '1']) {
        const before = await page.locator('.msg.bot').count();
        await type(page, answer);
        await page.locator('.msg.bot').nth(before).waitFor();
      }
      await page.locator('.options button', { hasText: 'Đúng, gửi đi' }).last().click();
      await page.locator('.msg.bot', { hasText: 'Mã số: KB-' }).waitFor();
      expect(await inView(page, '.msg.bot', 'Mã số: KB-')).toBe(true);
      // After the outcome a short way back, not the whole menu: "Về menu" (folded or offered) opens it.
      const back = page.locator('.options button', { hasText: 'Về menu' }).last();
      expect(await back.isVisible()).toBe(true);
      expect(await page.locator('.options button', { hasText: 'Khai báo y tế' }).count()).toBe(0);
      await back.click();
      await page.locator('.options button', { hasText: 'Khai báo y tế' }).last().waitFor();
      // Nothing of it was kept on the device.
      expect(await storedItems(page)).toBe(0);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('on a slow line the typed text stays until the server has it; a lost answer is retried with the same event id and counts once; a failed send is not shown as sent', async () => {
    const u = await onboarded();
    await u.send({ type: 'start', payload: 'declaration' });
    await u.say('2');
    await u.say('1');
    const { context, page } = await openAs(u);
    try {
      await page.locator('.msg.bot', { hasText: 'Họ và tên' }).first().waitFor();
      const held: Route[] = [];
      const bodies: Array<{ eventId: string; text: string }> = [];
      let waiters: Array<() => void> = [];
      const routed = (n: number) =>
        new Promise<void>((resolve) => {
          const check = () => (held.length >= n ? resolve() : void waiters.push(check));
          check();
        });
      await page.route('**/api/web/events', async (route) => {
        bodies.push(route.request().postDataJSON() as { eventId: string; text: string });
        held.push(route);
        const w = waiters;
        waiters = [];
        for (const check of w) check();
      });

      await type(page, 'Lò Văn Minh');
      await routed(1);
      // Held by the "network": the words stay, the page says it is sending.
      await page.getByText('Đang gửi…').waitFor();
      expect(await page.inputValue('#text')).toBe('Lò Văn Minh');
      await page.locator('.msg.me.pending', { hasText: 'Lò Văn Minh' }).waitFor();

      // The server gets it, but the answer is lost: the page sends it again by itself, with the same event id.
      await held[0]!.fetch();
      await held[0]!.abort('connectionreset');
      await routed(2);
      expect(bodies).toHaveLength(2);
      expect(bodies[1]!.eventId).toBe(bodies[0]!.eventId);
      await held[1]!.continue();
      await page.locator('.msg.bot', { hasText: 'Năm sinh' }).waitFor();
      expect(await page.inputValue('#text')).toBe('');
      expect(await page.locator('.msg.me', { hasText: 'Lò Văn Minh' }).count()).toBe(1);
      expect(await page.getByText('Đang gửi…').count()).toBe(0);

      // Nothing gets through: after its retries the page says so, shows no bubble and keeps the text.
      held.length = 0;
      bodies.length = 0;
      await page.unroute('**/api/web/events');
      await page.route('**/api/web/events', async (route) => {
        bodies.push(route.request().postDataJSON() as { eventId: string; text: string });
        await route.abort('internetdisconnected');
      });
      await type(page, '1985');
      await page.getByText('Chưa gửi được').waitFor();
      expect(await page.inputValue('#text')).toBe('1985');
      expect(await page.locator('.msg.me', { hasText: '1985' }).count()).toBe(0);
      expect(new Set(bodies.map((b) => b.eventId)).size).toBe(1);
      // Pressing Send again once the line is back sends the same message under the same id: once.
      await page.unroute('**/api/web/events');
      const sent = page.waitForRequest('**/api/web/events');
      await page.press('#text', 'Enter');
      expect(((await sent).postDataJSON() as { eventId: string }).eventId).toBe(bodies[0]!.eventId);
      await page.locator('.msg.bot', { hasText: 'Giới tính' }).waitFor();
      expect(await page.locator('.msg.me', { hasText: '1985' }).count()).toBe(1);
      // The server counted each answer once: the flow is at the question after the birth year.
      expect(await u.send({ type: 'text', text: 'x' })).toContain('Giới tính');
    } finally {
      await context.close();
    }
  }, 90_000);

  it('a deep link is dropped from the address once used; phone numbers and addresses are links; English switches the page', async () => {
    const u = await onboarded();
    const { context, page } = await openAs(u, '/?start=contacts');
    try {
      await page.getByRole('button', { name: 'Bắt đầu / Start' }).click();
      await page.locator('.msg.bot', { hasText: '115' }).first().waitFor();
      expect(new URL(page.url()).search).toBe('');
      const tels = await page.locator('.msg.bot a[href^="tel:"]').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
      expect(tels).toEqual(expect.arrayContaining(['tel:115', 'tel:19009095']));
      // A reload continues, without the link and without drawing the question twice.
      await page.reload();
      await page.locator('.options').first().waitFor();
      expect(await page.getByRole('button', { name: 'Bắt đầu / Start' }).count()).toBe(0);
      expect(await page.locator('.options').count()).toBe(1);
      // Accessible: a log, who said what, buttons and inputs a thumb can hit.
      expect(await page.getAttribute('#log', 'role')).toBe('log');
      for (const sel of ['#menu-button', '#text', '#send', '.options button']) expect((await page.locator(sel).first().boundingBox())!.height).toBeGreaterThanOrEqual(44);

      await type(page, 'english');
      await page.locator('.msg.bot', { hasText: 'English' }).last().waitFor();
      await page.waitForFunction("document.documentElement.lang === 'en'");
      expect(await page.textContent('#send')).toBe('Send');
      expect(await page.locator('.msg.bot .sr').last().textContent()).toBe('Assistant: ');
      // A bubble is as wide as its words.
      const [mine, log] = [(await page.locator('.msg.me', { hasText: 'english' }).boundingBox())!, (await page.locator('#log').boundingBox())!];
      expect(mine.width).toBeLessThan(log.width / 2);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('addresses, hotlines and phone numbers in a reply become links; anything else in it stays text', async () => {
    const { context, page } = await openAs(null);
    try {
      const text =
        'Gọi 115 hoặc 1900 9095; trạm y tế: 0214 3880 115, di động +84 912 345 678. Khai báo trên tokhaiyte.vn hoặc http://www.bluezone.gov.vn. ' +
        'Mã KB-210715-0001, ngày 01.07.2021, 38.5 độ, 1150 người. <img src=x onerror=alert(1)>';
      await page.route('**/api/web/prompt', (route) => route.fulfill({ json: { known: true, announcements: 0, locale: 'vi', atMenu: false, replies: [{ kind: 'text', text }] } }));
      await page.reload();
      await page.locator('.msg.bot', { hasText: 'tokhaiyte' }).waitFor();
      const hrefs = await page.locator('.msg.bot a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
      expect(hrefs).toEqual(['tel:115', 'tel:19009095', 'tel:02143880115', 'tel:+84912345678', 'http://tokhaiyte.vn', 'http://www.bluezone.gov.vn']);
      expect(await page.locator('.msg.bot img').count()).toBe(0);
      expect(await page.locator('.msg.bot').textContent()).toContain('<img src=x onerror=alert(1)>');
    } finally {
      await context.close();
    }
  });

  it('"Delete my data" leaves nothing on the device and starts a new identity; "clear this chat" does the same for a shared phone', async () => {
    const u = await onboarded();
    const { context, page } = await openAs(u);
    try {
      await page.locator('.options').first().waitFor();
      await type(page, 'xoa du lieu');
      await page.locator('.options button', { hasText: 'Có, xoá hết' }).click();
      await page.locator('.msg.bot', { hasText: 'Đã xoá toàn bộ dữ liệu' }).waitFor();
      expect(await page.locator('.msg.me').count()).toBe(0);
      expect(await storedItems(page)).toBe(0);
      expect((await context.cookies()).filter((c) => c.name === 'cgb_chat')).toEqual([]);
      // The old identity has nothing left: its session is gone.
      expect(((await (await fetch(`${server.url}/api/web/prompt`, { headers: { cookie: u.cookie! } })).json()) as { known: boolean }).known).toBe(false);
      await page.reload();
      await page.getByRole('button', { name: 'Bắt đầu / Start' }).click();
      await page.locator('.options button', { hasText: 'Tiếng Việt' }).waitFor();
      const fresh = (await context.cookies()).find((c) => c.name === 'cgb_chat')!;
      expect(fresh.value).not.toBe(u.cookie!.split('=')[1]);
      // The note about what the web chat cannot receive comes once, with a new conversation.
      expect(await page.locator('.note', { hasText: 'chỉ nhận tin khi' }).count()).toBe(1);

      page.once('dialog', (d) => void d.accept());
      await page.click('#clear-button');
      await page.getByRole('button', { name: 'Bắt đầu / Start' }).waitFor();
      expect(await page.locator('.msg').count()).toBe(0);
      expect((await context.cookies()).filter((c) => c.name === 'cgb_chat')).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('a photo step takes a photo from the page; it is kept under a reference like a platform photo and goes with "delete my data"', async () => {
    const u = await onboarded();
    await u.send({ type: 'start', payload: 'report' });
    for (const answer of ['1', 'Thôn Sín Chải', 'bo qua', '1', '2 người từ vùng dịch về']) await u.say(answer);
    const { context, page } = await openAs(u);
    try {
      const upload = page.locator('#photo-box');
      await upload.waitFor();
      await page.setInputFiles('#photo', { name: 'anh.png', mimeType: 'image/png', buffer: PNG });
      await page.locator('.msg.me', { hasText: '[ảnh]' }).waitFor();
      await page.locator('.msg.bot', { hasText: 'giấu tên' }).waitFor();
      expect(await upload.isHidden()).toBe(true);
    } finally {
      await context.close();
    }
    const [photo] = await server.runtime.db.query<{ id: number; owner_hash: string }>('SELECT id, owner_hash FROM web_photos ORDER BY id DESC LIMIT 1');
    expect(photo!.owner_hash).not.toContain(u.userId);
    await u.say('1');
    const done = await u.say('1');
    expect(done).toMatch(/[A-Z]{2}-?\d/);
    const [record] = await server.runtime.db.query<{ photo: { fileRef: string; channel: string } }>(`SELECT data -> 'photo' AS photo FROM records WHERE data -> 'photo' ->> 'channel' = 'web' ORDER BY id DESC LIMIT 1`);
    expect(record!.photo).toEqual({ fileRef: `web-photo:${photo!.id}`, channel: 'web' });

    // Not at a photo step, not a picture, or too large: refused, and nothing is stored.
    const stored = async () => (await server.runtime.db.query('SELECT 1 FROM web_photos')).length;
    const before = await stored();
    const notAsked = await fetch(`${server.url}/api/web/photo?eventId=${u.nextEventId()}`, { method: 'POST', headers: { cookie: u.cookie!, 'content-type': 'image/png' }, body: PNG });
    expect(notAsked.status).toBe(409);
    expect(await stored()).toBe(before);
    const notImage = await fetch(`${server.url}/api/web/photo?eventId=${u.nextEventId()}`, { method: 'POST', headers: { cookie: u.cookie!, 'content-type': 'image/png' }, body: 'hello' });
    expect(notImage.status).toBe(415);
    const tooBig = await fetch(`${server.url}/api/web/photo?eventId=${u.nextEventId()}`, { method: 'POST', headers: { cookie: u.cookie!, 'content-type': 'image/jpeg' }, body: Buffer.alloc(3 * 1024 * 1024 + 10, 0xff) });
    expect(tooBig.status).toBe(413);

    await u.say('menu');
    await u.say('xoa du lieu');
    const erased = await u.post({ type: 'text', text: '1', eventId: u.nextEventId() });
    expect(erased.json).toMatchObject({ erased: true });
    expect(await server.runtime.db.query('SELECT 1 FROM web_photos WHERE id = $1', [photo!.id])).toEqual([]);
  }, 60_000);

  it('serves the page compressed and versioned, and answers that carry personal data are never cached', async () => {
    const res = await fetch(`${server.url}/`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    const script = /src="(\/chat\.[0-9a-f]{10}\.js)"/.exec(html)?.[1];
    const style = /href="(\/chat\.[0-9a-f]{10}\.css)"/.exec(html)?.[1];
    expect(script && style).toBeTruthy();
    let total = Buffer.byteLength(html);
    let compressed = 0;
    for (const url of [script!, style!]) {
      const raw = await new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
        void import('node:http').then((http) =>
          http.get(`${server.url}${url}`, { headers: { 'accept-encoding': 'br' } }, (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
          }).on('error', reject),
        );
      });
      expect(raw.headers['content-encoding']).toBe('br');
      expect(raw.headers['cache-control']).toContain('immutable');
      compressed += raw.body.length;
      total += zlib.brotliDecompressSync(raw.body).length;
      const again = await fetch(`${server.url}${url}`, { headers: { 'if-none-match': String(raw.headers.etag) } });
      expect(again.status).toBe(304);
    }
    // The figures for the report: the page, its script and its style.
    console.log(`web chat page: ${total} bytes, script and style ${compressed} bytes with brotli`);
    expect(total).toBeLessThan(32_000);
    for (const path of ['/api/web/prompt']) expect((await fetch(`${server.url}${path}`)).headers.get('cache-control')).toBe('no-store');
    const u = new WebUser(server.url);
    const post = await fetch(`${server.url}/api/web/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'start', eventId: u.nextEventId() }) });
    expect(post.headers.get('cache-control')).toBe('no-store');
  });
});
