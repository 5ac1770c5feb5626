import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, WebUser } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The web chat and the venue check-in page in a real browser (Chromium at /usr/bin/chromium: `apt-get install -y chromium`). */
describe('venues in a browser', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({});
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Types a message in the chat and waits for the bot's answer to contain `expected`. */
  async function say(page: Page, text: string, expected: string): Promise<void> {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
    await page.locator('.msg.bot', { hasText: expected }).last().waitFor();
  }

  it('the owner gets the poster in the chat: its picture and a download of the PDF', async () => {
    const owner = new WebUser(server.url);
    await owner.start();
    await owner.say('1');
    await owner.say('ban pho');
    for (const text of ['tạo mã qr cho cửa hàng', '1', 'Tạp hoá Lù Thị Dung', 'cua hang', 'ban pho', 'Thôn Bản Phố 1', 'Lù Thị Dung', '0912 345 678', '1', '2']) await owner.say(text);

    const context = await browser.newContext();
    try {
      // The same person in the browser: the server's identity cookie.
      const [name, value] = owner.cookie!.split(/=(.*)/s) as [string, string];
      await context.addCookies([{ name, value, url: server.url }]);
      const page = await context.newPage();
      await page.goto(server.url);
      await say(page, 'mã qr cửa hàng', 'chủ cơ sở');
      await say(page, '2', 'Tờ mã QR của Tạp hoá Lù Thị Dung');
      const link = page.locator('a.download').last();
      const href = await link.getAttribute('href');
      expect(href).toMatch(/^\/venues\/poster\/[2-9A-HJKMNP-Z]{8}\.pdf$/);
      expect(await link.getAttribute('download')).toMatch(/^ma-qr-[2-9A-HJKMNP-Z]{8}\.pdf$/);
      const picture = page.locator('.msg.bot img').last();
      await picture.waitFor();
      expect(await picture.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1240);
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const file = await download.path();
      expect(fs.readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('a visitor opens the check-in page of the QR code, continues in the web chat and checks in with one tap', async () => {
    const [venue] = await server.runtime.db.query<{ id: number; code: string }>(`SELECT id, code FROM venues WHERE name = 'Tạp hoá Lù Thị Dung'`);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/v/${venue!.code}`);
      expect(await page.locator('h1').textContent()).toBe('Tạp hoá Lù Thị Dung');
      await page.click('a.b >> nth=0');
      // The chat acts on the link only once the person presses Start.
      await page.getByRole('button', { name: 'Bắt đầu / Start' }).click();
      // Someone new answers the two onboarding questions first, then the venue's question comes.
      await page.locator('.options button', { hasText: 'Tiếng Việt' }).click();
      await page.locator('.msg.bot', { hasText: 'xã, thị trấn' }).last().waitFor();
      await say(page, 'ban pho', 'họ và tên');
      await say(page, 'Thào Thị Chi', 'Số điện thoại');
      await say(page, '0988 765 432', 'Bấm “Vào”');
      expect(await server.runtime.db.query('SELECT 1 FROM venue_checkins WHERE venue_id = $1', [venue!.id])).toEqual([]);
      await page.locator('.options button', { hasText: 'Vào' }).last().click();
      await page.locator('.msg.bot', { hasText: 'Đã ghi: Anh/Chị đến Tạp hoá Lù Thị Dung' }).waitFor();
      expect(await server.runtime.db.query('SELECT name, phone FROM venue_checkins WHERE venue_id = $1', [venue!.id])).toEqual([{ name: 'Thào Thị Chi', phone: '+84988765432' }]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
