import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/config';
import { BAN_PHO_GROUP, DISTRICT_GROUP, signInInBrowser, startDashboardServer, type DashboardServer } from './support/adminFixture';
import { trackServer } from './support/cleanup';
import { tempDir } from './support/harness';

/** 08:00 in Bắc Hà (UTC+7) on 15 July 2021. */
const now = Date.UTC(2021, 6, 15, 1, 0, 0);
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RANGE = 'from=2021-07-01&to=2021-07-15';

/** Splits CSV lines into cells (quoted cells may hold commas and doubled quotes). */
function parseCsv(text: string): string[][] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r\n/)
    .map((line) => {
      const cells: string[] = [];
      let cell = '';
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i]!;
        if (quoted && ch === '"' && line[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (ch === '"') quoted = !quoted;
        else if (ch === ',' && !quoted) {
          cells.push(cell);
          cell = '';
        } else cell += ch;
      }
      cells.push(cell);
      return cells;
    });
}

describe('the dashboard in a real browser (Debian chromium through playwright-core)', () => {
  let s: DashboardServer;
  let browser: Browser;
  let banPhoRef: string;
  let cocLyRef: string;
  const downloads = tempDir('cgb-downloads-');

  beforeAll(async () => {
    s = await startDashboardServer(() => now);
    await s.onboard(710101, 'ban pho', true);
    await s.install(710101, { office: 'ban pho', declared: true });
    await s.onboard(710102, 'ban pho');
    await s.install(710102, { declared: false });
    await s.onboard(710103, 'coc ly');
    await s.install(710103, { office: 'coc ly', declared: true });
    banPhoRef = await s.declare(710101, 'Giàng Thị Mai', '1 2');
    cocLyRef = await s.declare(710103, 'Lò Văn Páo', '1 2');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    // Closed after this file even when a test fails or times out (test/support/afterEachFile.ts).
    trackServer(() => browser.close());
  }, 60_000);

  /** Errors the browser reported (a Content-Security-Policy violation is one). */
  const consoleErrors: string[] = [];

  const signIn = (group: number, official: number): Promise<Page> => signInInBrowser(browser, s, group, official, consoleErrors);

  async function download(page: Page, linkText: string): Promise<Buffer> {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: linkText }).click()]);
    const target = path.join(downloads, file.suggestedFilename());
    await file.saveAs(target);
    return fs.readFileSync(target);
  }

  /** The figures the report must show for a commune, straight from the database. */
  async function figuresInDatabase(commune: string) {
    const q = async (sql: string) => Number((await s.server.runtime.db.query<{ n: number }>(sql, [commune]))[0]!.n);
    return {
      installs: await q(`SELECT count(*)::int AS n FROM app_installs WHERE commune = $1`),
      officialsInstalled: await q(`SELECT count(*)::int AS n FROM campaign_people p JOIN app_installs i USING (channel, user_id) WHERE p.official_unit = 'commune:' || $1`),
      declared: await q(`SELECT count(*)::int AS n FROM campaign_people WHERE declared AND commune = $1`),
      households: await q(`SELECT coalesce(sum(households_visited), 0)::int AS n FROM field_reports WHERE commune = $1`),
      declarations: await q(`SELECT count(*)::int AS n FROM records WHERE kind = 'declaration' AND commune = $1`),
    };
  }

  it('a commune officer signs in through the one-time link and sees only their commune; field figures typed in the form count', async () => {
    const page = await signIn(BAN_PHO_GROUP, 830001);
    expect(await page.locator('h1').innerText()).toContain('Xã Bản Phố');
    expect(await page.locator('#communes tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-commune')))).toEqual(['ban-pho']);
    expect(await page.content()).not.toContain('Xã Cốc Ly');
    expect(await page.locator('#agencies').count()).toBe(0);
    // 2 installs of 4 smartphone users is 50 %: the plan wants more than 50 %, so the commune is behind.
    expect(await page.locator('#communes tbody tr.behind').count()).toBe(1);

    await page.getByLabel('Hộ đã đến').fill('25');
    await page.getByLabel('Điện thoại đã rà').fill('18');
    await page.getByLabel('Đã giúp cài').fill('6');
    await page.getByRole('button', { name: 'Lưu' }).click();
    await page.getByText('Đã lưu số liệu thực địa.').waitFor();
    const [entry] = await s.server.runtime.db.query<{ commune: string; households_visited: number; entered_by: string }>('SELECT commune, households_visited, entered_by FROM field_reports');
    expect(entry).toEqual({ commune: 'ban-pho', households_visited: 25, entered_by: 'Hoàng Văn Sơn (telegram:830001)' });
    await page.context().close();
  });

  it('opens a chart: server-drawn SVG with the commune\'s bar against the target', async () => {
    const page = await signIn(BAN_PHO_GROUP, 830002);
    await page.getByRole('link', { name: 'Mở biểu đồ' }).first().click();
    await page.waitForURL(/\/admin\/charts\/installs\.svg/);
    const bars = await page.locator('g.bar').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-label'), g.getAttribute('data-percent'), g.getAttribute('data-count')]));
    expect(bars).toEqual([['Xã Bản Phố', '50', '2']]);
    await page.context().close();
  });

  it('downloads the report as CSV and XLSX, and their numbers are the database\'s', async () => {
    const page = await signIn(DISTRICT_GROUP, 830003);
    await page.goto(`${s.server.url}/admin?${RANGE}`);
    const csv = parseCsv((await download(page, 'Tải báo cáo CSV')).toString('utf8'));
    const header = csv.find((r) => r[0] === 'Đơn vị')!;
    const col = (name: string) => header.indexOf(name);
    expect(csv[2]).toEqual(['Kỳ báo cáo: từ 2021-07-01 đến 2021-07-15']);
    for (const [commune, name] of [
      ['ban-pho', 'Xã Bản Phố'],
      ['coc-ly', 'Xã Cốc Ly'],
    ] as const) {
      const row = csv.find((r) => r[0] === name)!;
      const db = await figuresInDatabase(commune);
      expect(Number(row[col('Đã cài Bluezone (lũy kế)')])).toBe(db.installs);
      expect(Number(row[col('Cán bộ đã cài')])).toBe(db.officialsInstalled);
      expect(Number(row[col('Đã khai báo y tế')])).toBe(db.declared);
      expect(Number(row[col('Hộ đã đến')])).toBe(db.households);
      expect(Number(row[col('Tờ khai y tế')])).toBe(db.declarations);
    }
    const banPho = csv.find((r) => r[0] === 'Xã Bản Phố')!;
    expect(banPho[col('Người dùng điện thoại thông minh')]).toBe('4');
    expect(banPho[3]).toBe('test survey (2021-06-30)');
    expect(banPho[col('Tỷ lệ (%)')]).toBe('50');
    expect(banPho[col('Chỉ tiêu > 50 %')]).toBe('Chưa đạt');
    const cocLy = csv.find((r) => r[0] === 'Xã Cốc Ly')!;
    // No sourced denominator: the count without a percentage, and the source says so.
    expect(cocLy[col('Người dùng điện thoại thông minh')]).toBe('');
    expect(cocLy[3]).toBe('chưa có');
    expect(cocLy[col('Tỷ lệ (%)')]).toBe('');
    expect(cocLy[col('Chỉ tiêu > 50 %')]).toBe('Chưa có mẫu số');
    const total = csv.find((r) => r[0] === 'Tổng huyện Bắc Hà')!;
    expect(Number(total[col('Đã cài Bluezone (lũy kế)')])).toBe(Number((await s.server.runtime.db.query<{ n: number }>('SELECT count(*)::int AS n FROM app_installs'))[0]!.n));

    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await download(page, 'Tải báo cáo Excel (XLSX)')) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    const rows: unknown[][] = [];
    sheet.eachRow((r) => rows.push((r.values as unknown[]).slice(1)));
    const xHeader = rows.find((r) => r[0] === 'Đơn vị')!;
    const xRow = rows.find((r) => r[0] === 'Xã Bản Phố')!;
    const db = await figuresInDatabase('ban-pho');
    expect(xRow[xHeader.indexOf('Đã cài Bluezone (lũy kế)')]).toBe(db.installs);
    expect(xRow[xHeader.indexOf('Cán bộ đã cài')]).toBe(db.officialsInstalled);
    expect(xRow[xHeader.indexOf('Tỷ lệ (%)')]).toBe(50);
    expect(rows.some((r) => r[0] === 'Kỳ báo cáo: từ 2021-07-01 đến 2021-07-15')).toBe(true);
    const audit = await s.server.runtime.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE actor = 'telegram:830003' ORDER BY id`);
    expect(audit.map((a) => a.action)).toEqual(['export_csv', 'export_xlsx']);
    await page.context().close();
  });

  it('acknowledges a record from the inbox; the citizen is told, as with the group\'s button', async () => {
    const page = await signIn(BAN_PHO_GROUP, 830004);
    await page.getByRole('link', { name: 'Hộp thư' }).click();
    expect(await page.locator('#inbox tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-reference')))).toEqual([banPhoRef]);
    await page.getByLabel('Mã').fill(banPhoRef.slice(-4));
    await page.getByRole('button', { name: 'Xem' }).click();
    await page.getByRole('link', { name: banPhoRef }).click();
    expect(await page.locator('dl.facts').last().innerText()).toContain('Giàng Thị Mai');
    await page.getByRole('button', { name: 'Tiếp nhận' }).click();
    await page.getByText('Đã tiếp nhận. Người dân đã được báo.').waitFor();
    expect(await page.locator('#status').innerText()).toBe('Đã tiếp nhận');
    const [row] = await s.server.runtime.db.query<{ id: number; status: string }>('SELECT id, status FROM records WHERE reference = $1', [banPhoRef]);
    expect(row!.status).toBe('acknowledged');
    expect(await s.server.runtime.records.repo.statusChanges(row!.id)).toEqual([expect.objectContaining({ status: 'acknowledged', officialId: 'telegram:830004', chatId: 'dashboard' })]);
    await s.server.runtime.dispatcher.runUntilIdle();
    await s.bot.waitFor(() => s.textsTo(710101).some((t) => t.includes(banPhoRef) && t.includes('đã được tiếp nhận')));
    await s.bot.waitFor(() => s.textsTo(BAN_PHO_GROUP).some((t) => t.includes(`${banPhoRef}: đã tiếp nhận bởi Hoàng Văn Sơn`) && t.includes('bảng điều khiển')));
    await page.context().close();
  });

  it('a commune officer cannot open another commune\'s record or inbox in the browser', async () => {
    const page = await signIn(BAN_PHO_GROUP, 830005);
    const record = await page.goto(`${s.server.url}/admin/records/${cocLyRef}`);
    expect(record!.status()).toBe(404);
    expect(await page.content()).not.toContain('Lò Văn Páo');
    const inbox = await page.goto(`${s.server.url}/admin/inbox?commune=coc-ly`);
    expect(inbox!.status()).toBe(403);
    expect(await page.locator('#inbox tbody tr').count()).toBe(0);
    const accounts = await page.goto(`${s.server.url}/admin/accounts`);
    expect(accounts!.status()).toBe(403);
    await page.context().close();
  });

  it('the district sees every commune, sorts the table, and sends an announcement previewed with its recipients per channel', async () => {
    const page = await signIn(DISTRICT_GROUP, 830006);
    await page.goto(`${s.server.url}/admin?${RANGE}`);
    expect(await page.locator('#communes tbody tr').count()).toBe(s.server.runtime.locality.communes.length);
    expect(await page.locator('#agencies tbody tr').count()).toBe(s.server.runtime.locality.campaign.agencies.length);
    const installs = page.locator('#communes thead th', { hasText: 'Đã cài (lũy kế)' });
    await installs.click();
    await installs.click();
    expect(await installs.getAttribute('aria-sort')).toBe('descending');
    expect(await page.locator('#communes tbody tr').first().getAttribute('data-commune')).toBe('ban-pho');
    await installs.click();
    expect(await installs.getAttribute('aria-sort')).toBe('ascending');
    await installs.click(); // back to the most installs first for the screenshot
    await page.screenshot({ path: path.join(PROJECT_ROOT, 'docs', 'dashboard-campaign.png'), fullPage: true });

    await page.goto(`${s.server.url}/admin/inbox?${RANGE}`);
    expect(await page.locator('#inbox tbody tr').count()).toBe(2);
    await page.screenshot({ path: path.join(PROJECT_ROOT, 'docs', 'dashboard-inbox.png'), fullPage: true });

    await page.getByRole('link', { name: 'Thông báo' }).click();
    await page.getByLabel('Xã Bản Phố').check();
    await page.getByLabel('Nội dung tiếng Việt').fill('Chiều nay 14:00 tiêm vắc xin tại trạm y tế xã Bản Phố.');
    await page.getByRole('button', { name: 'Xem trước' }).click();
    expect(await page.locator('#recipients tr[data-channel="telegram"]').innerText()).toContain('1');
    expect(await page.locator('pre.message').first().innerText()).toContain('Chiều nay 14:00 tiêm vắc xin');
    await page.getByRole('button', { name: /Gửi cho 1 người/ }).click();
    await page.waitForURL(/\/admin\/announcements\/\d+$/);
    await s.server.runtime.broadcastSender.runUntilIdle();
    await page.reload();
    expect(await page.locator('h1').innerText()).toContain('Đã gửi xong');
    expect(await page.locator('#progress th[data-status="sent"]').innerText()).toBe('1');
    expect(s.textsTo(710101).some((t) => t.includes('Chiều nay 14:00 tiêm vắc xin'))).toBe(true);
    expect(s.textsTo(710103).some((t) => t.includes('Chiều nay 14:00 tiêm vắc xin'))).toBe(false);
    await page.context().close();
  });

  it('no page broke its Content-Security-Policy or threw in the browser', () => {
    expect(consoleErrors.filter((e) => !/status of 40[34]/.test(e))).toEqual([]);
  });
});
