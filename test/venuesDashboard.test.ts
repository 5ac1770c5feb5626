import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ActionContext } from '../src/engine/contracts';
import { BAN_PHO_GROUP, COC_LY_GROUP, signInInBrowser, signInOverHttp, startDashboardServer, type DashboardServer } from './support/adminFixture';
import { trackServer } from './support/cleanup';
import { tempDir } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MINUTE = 60_000;
/** 08:00 in Bắc Hà (UTC+7) on 15 July 2021; the visits happen before, the officials look at 09:00. */
let now = Date.UTC(2021, 6, 15, 1, 0, 0);

describe('venues in the officials\' dashboard (a real browser, the commune\'s officials only)', () => {
  let s: DashboardServer;
  let browser: Browser;
  let pho: { id: number; reference: string };
  let market: { id: number; reference: string };
  const downloads = tempDir('cgb-venue-downloads-');
  const consoleErrors: string[] = [];

  /** A person's action in the chat, as the flows run it (the visits and registrations the officials then see). */
  const act = async (name: string, who: { userId: string; locale: string; answers: Record<string, unknown> }, eventId: string) => {
    const ctx: ActionContext = {
      channel: 'telegram',
      userId: who.userId,
      eventId,
      locale: who.locale,
      profile: { locale: who.locale, commune: 'ban-pho' },
      answers: who.answers as ActionContext['answers'],
      now,
      display: () => '',
    };
    const actions = s.server.runtime.venues.actions() as Record<string, (c: ActionContext) => Promise<{ ok: boolean; output?: Record<string, unknown> }>>;
    const result = await actions[name]!(ctx);
    if (!result.ok) throw new Error(`${name} failed: ${JSON.stringify(result)}`);
    return result.output ?? {};
  };
  const owner = (userId: string, answers: Record<string, unknown>) => ({
    userId,
    locale: 'vi',
    answers: { ownerName: 'Lù Thị Hương', ownerPhone: '+84912345678', address: 'Thôn Bản Phố 1', ...answers },
  });

  beforeAll(async () => {
    s = await startDashboardServer(() => now);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    trackServer(() => browser.close());
    // The eatery's owner chats in English: the commune's decision reaches them in English.
    const a = await act('registerVenue', { ...owner('840001', { venueName: 'Quán phở Hương', kind: 'eatery', commune: 'ban-pho' }), locale: 'en' }, 'reg-1');
    const b = await act('registerVenue', owner('840002', { venueName: 'Chợ Cốc Ly', kind: 'market', commune: 'coc-ly', address: 'Trung tâm xã' }), 'reg-2');
    pho = { id: Number(a.venueId), reference: String(a.reference) };
    market = { id: Number(b.venueId), reference: String(b.reference) };
    const visit = (userId: string, locale: string, name: string, phone: string) =>
      act('checkInVenue', { userId, locale, answers: { venueId: String(pho.id), visitorName: name, visitorPhone: phone } }, `in-${userId}`);
    now -= 30 * MINUTE;
    await visit('840011', 'vi', 'Giàng Thị Mai', '+84912000111');
    await visit('840012', 'en', 'Anna Schmidt', '+84912000222');
    // Staff check in a visitor without a smartphone: reachable only by phone.
    await act('assistedCheckin', { userId: '840001', locale: 'vi', answers: { venueId: String(pho.id), guestName: 'Lò Văn Sáng', guestPhone: '+84912000333' } }, 'assist-1');
    now += 90 * MINUTE;
  }, 60_000);

  const signIn = (group: number, official: number): Promise<Page> => signInInBrowser(browser, s, group, official, consoleErrors, { width: 1024, height: 768 });

  const auditOf = async (actor: string) =>
    (await s.server.runtime.db.query<{ action: string; subject: string }>(`SELECT action, subject FROM audit_log WHERE actor = $1 ORDER BY id`, [actor])).map((r) => `${r.action} ${r.subject}`);

  it('a commune officer lists their commune\'s venues with status, confirms one (the owner is told), and adds one found in the field', async () => {
    const page = await signIn(BAN_PHO_GROUP, 850001);
    await page.getByRole('link', { name: 'Địa điểm' }).click();
    await page.waitForURL(`${s.server.url}/admin/venues`);
    const rows = page.locator('#venues tbody tr');
    expect(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-reference')))).toEqual([pho.reference]);
    expect(await page.content()).not.toContain('Chợ Cốc Ly');
    expect(await rows.first().locator('td.status').innerText()).toContain('chờ xác nhận');

    await rows.first().getByRole('button', { name: 'Xác nhận' }).click();
    await page.getByText('Đã xác nhận địa điểm').waitFor();
    const [decided] = await s.server.runtime.db.query<{ status: string; decided_by: string }>('SELECT status, decided_by FROM venues WHERE id = $1', [pho.id]);
    expect(decided).toEqual({ status: 'confirmed', decided_by: 'Hoàng Văn Sơn (telegram:850001)' });
    const told = await s.server.runtime.db.query<{ replies: unknown }>(`SELECT replies FROM notices WHERE channel = 'telegram' AND recipient = '840001'`);
    expect(JSON.stringify(told)).toContain(`Your place Quán phở Hương (reference ${pho.reference}): confirmed.`);

    await page.goto(`${s.server.url}/admin/venues`);
    await page.getByLabel('Tên địa điểm').fill('Nhà nghỉ Sơn Hà');
    await page.getByLabel('Loại').last().selectOption('lodging');
    await page.getByLabel('Thôn, địa chỉ').fill('Thôn Lùng Choáng');
    await page.getByRole('button', { name: 'Thêm địa điểm' }).click();
    await page.getByText(/Đã thêm địa điểm DD-\d{6}-\d{4}/).waitFor();
    expect(await page.locator('#venues tbody tr').count()).toBe(2);
    expect(await page.locator('#venue-kinds tr[data-kind="lodging"] td').first().innerText()).toBe('1');
    const [added] = await s.server.runtime.db.query<{ commune: string; status: string; source: string; checked: boolean }>(
      `SELECT commune, status, source, checked_on_site_at IS NOT NULL AS checked FROM venues WHERE name = 'Nhà nghỉ Sơn Hà'`,
    );
    expect(added).toEqual({ commune: 'ban-pho', status: 'confirmed', source: 'field', checked: true });
    // The page after the decision shows the owner's name and phone: that view is written too.
    expect(await auditOf('telegram:850001')).toEqual([`venue_confirm venue:${pho.reference}`, `venue_view venue:${pho.reference}`, expect.stringMatching(/^venue_add venue:DD-/)]);
    await page.context().close();
  });

  it('tracing: the visitors of a venue in a window, the CSV export and the notice to them, each in the audit log; English visitors are told in English', async () => {
    const page = await signIn(BAN_PHO_GROUP, 850002);
    await page.goto(`${s.server.url}/admin/venues/${pho.id}`);
    await page.getByRole('button', { name: 'Xem người đến' }).click();
    await page.waitForURL(/\/admin\/venues\/\d+\/visitors\?/);
    const names = await page.locator('#visitors tbody tr td:first-child').allInnerTexts();
    expect(names.sort()).toEqual(['Anna Schmidt', 'Giàng Thị Mai', 'Lò Văn Sáng']);
    expect(await page.locator('#visitors').innerText()).toContain('+84912000111');

    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Tải báo cáo CSV' }).click()]);
    const target = path.join(downloads, file.suggestedFilename());
    await file.saveAs(target);
    expect(file.suggestedFilename()).toBe(`truy-vet-${pho.reference}.csv`);
    const csv = fs.readFileSync(target, 'utf8');
    expect(csv).toContain('Giàng Thị Mai,+84912000111');
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(4);

    await page.getByLabel('Thêm lời dặn').fill('Xét nghiệm tại trạm y tế xã sáng mai.');
    await page.getByRole('button', { name: /Gửi tin cho người trong danh sách/ }).click();
    await page.getByText('Đã xếp 2 tin').waitFor();
    expect(await page.locator('#by-phone').innerText()).toContain('Lò Văn Sáng');
    const notices = await s.server.runtime.db.query<{ recipient: string; replies: unknown }>(`SELECT recipient, replies FROM notices WHERE recipient IN ('840011', '840012') ORDER BY recipient`);
    expect(notices.map((n) => n.recipient)).toEqual(['840011', '840012']);
    expect(JSON.stringify(notices[0]!.replies)).toContain('Thông báo của ngành y tế');
    expect(JSON.stringify(notices[1]!.replies)).not.toContain('Thông báo của ngành y tế');
    expect(JSON.stringify(notices[1]!.replies)).toContain('Quán phở Hương');

    expect(await auditOf('telegram:850002')).toEqual([
      `venue_view venue:${pho.reference}`,
      `venue_trace venue:${pho.reference}`,
      `venue_export_csv venue:${pho.reference}`,
      `venue_notify venue:${pho.reference}`,
    ]);
    await page.context().close();
  });

  it('another commune\'s officers cannot see the venue, its visitors or its export, and nothing is written for them', async () => {
    const link = await s.loginLink(COC_LY_GROUP, 850003);
    const coc = await signInOverHttp(s.server.url, link);
    const q = 'from=2021-07-15T07:00&to=2021-07-15T09:00';
    expect((await coc.get(`/admin/venues/${pho.id}`)).status).toBe(404);
    expect((await coc.get(`/admin/venues/${pho.id}/visitors?${q}`)).status).toBe(404);
    expect((await coc.get(`/admin/venues/${pho.id}/visitors.csv?${q}`)).status).toBe(404);
    expect((await coc.post(`/admin/venues/${pho.id}/notify`, { _csrf: coc.csrf, from: '2021-07-15T07:00', to: '2021-07-15T09:00' })).status).toBe(404);
    expect((await coc.post(`/admin/venues/${pho.id}/decide`, { _csrf: coc.csrf, status: 'rejected' })).status).toBe(404);
    const list = await (await coc.get('/admin/venues')).text();
    expect(list).toContain(market.reference);
    expect(list).not.toContain('Quán phở Hương');
    // Their own venue's visitors: a form without its token changes nothing.
    expect((await coc.post(`/admin/venues/${market.id}/decide`, { status: 'confirmed' })).status).toBe(403);
    expect(await auditOf('telegram:850003')).toEqual([]);
  });

  it('the campaign figures and the report count venues listed and registered per commune and per kind', async () => {
    const link = await s.loginLink(BAN_PHO_GROUP, 850004);
    const official = await signInOverHttp(s.server.url, link);
    await s.server.runtime.db.query(`UPDATE venues SET national_qr_at = $2 WHERE id = $1`, [pho.id, new Date(now - 10 * MINUTE).toISOString()]);
    const page = await (await official.get('/admin?from=2021-07-01&to=2021-07-15')).text();
    expect(page).toContain('Địa điểm theo loại');
    expect(page).toMatch(/<tr data-row="eatery"><th scope="row">Quán ăn, nhà hàng<\/th><td data-value="1">1<\/td><td data-value="1">1<\/td>/);
    const csv = await (await official.get('/admin/report.csv?from=2021-07-01&to=2021-07-15')).text();
    const lines = csv.split('\r\n');
    // The venues' columns close the header and the commune's row: listed, registered (national QR), confirmed, checked on site.
    expect(lines.find((l) => l.startsWith('Đơn vị'))).toMatch(/,Địa điểm trong danh sách,Đã đăng ký điểm QR \(niêm yết mã QR quốc gia\),Xã đã xác nhận,Đã kiểm tra tại chỗ$/);
    expect(lines.find((l) => l.startsWith('Xã Bản Phố'))!.split(',').slice(-4)).toEqual(['2', '1', '2', '1']);
    expect(lines).toContain('Địa điểm theo loại');
    expect(lines).toContain('"Nhà nghỉ, khách sạn, homestay",1,0,1,1');
    // Before the venues were registered, none counted.
    const before = await (await official.get('/admin/report.csv?from=2021-07-01&to=2021-07-10')).text();
    expect(before).toContain('Tổng,0,0,0,0');
  });

  it('no venue page broke its Content-Security-Policy or threw in the browser', () => {
    expect(consoleErrors.filter((e) => !/status of 40[34]/.test(e))).toEqual([]);
  });
});
