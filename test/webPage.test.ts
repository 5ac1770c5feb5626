import { chromium, type Browser } from 'playwright-core';
import { Redis } from 'ioredis';
import { startServer, testRedisUrl, uniquePrefix } from './support/harness';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the web chat page in a real browser', () => {
  const redis = new Redis(testRedisUrl());
  const prefix = uniquePrefix();
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer({ REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await redis.quit();
  });

  it('never acts on ?start= before the person presses something; the identity cookie is out of the page\'s reach', async () => {
    const page = await browser.newPage();
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
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'cgb_chat')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      // The link's flow waits for onboarding; nothing was erased or stored beyond the session.
      expect(await redis.keys(`${prefix}s:*`)).toHaveLength(1);
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  }, 30_000);
});
