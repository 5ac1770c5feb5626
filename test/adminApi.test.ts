import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import { BAN_PHO_GROUP, COC_LY_GROUP, DISTRICT_GROUP, signInOverHttp, startDashboardServer, type DashboardServer } from './support/adminFixture';

/** 08:00 in Bắc Hà (UTC+7) on 15 July 2021. */
let now = Date.UTC(2021, 6, 15, 1, 0, 0);

describe('the dashboard over HTTP: sign-in, roles that follow the group, commune isolation, group commands', () => {
  let s: DashboardServer;
  let banPhoRef: string;
  let cocLyRef: string;

  beforeAll(async () => {
    s = await startDashboardServer(() => now);
    await s.onboard(710001, 'ban pho');
    await s.install(710001, { office: 'ban pho', declared: true });
    await s.onboard(710002, 'coc ly');
    await s.install(710002, { declared: false });
    banPhoRef = await s.declare(710001, 'Giàng Thị Mai', '1 2');
    cocLyRef = await s.declare(710002, 'Lò Văn Páo', '1 2');
  });

  it('refuses every page and API call without a session', async () => {
    const page = await fetch(`${s.server.url}/admin`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/login');
    const api = await fetch(`${s.server.url}/admin/api/figures`);
    expect(api.status).toBe(401);
    const csv = await fetch(`${s.server.url}/admin/report.csv`, { redirect: 'manual' });
    expect(csv.status).toBe(303);
  });

  it('a one-time link signs in once: opening it uses nothing, a second use and an expired link are refused', async () => {
    const link = await s.loginLink(BAN_PHO_GROUP, 820001);
    expect(s.textsTo(BAN_PHO_GROUP).at(-1)).toContain('Đã gửi link đăng nhập vào tin nhắn riêng');
    // Opening the link (a link preview, a scanner) shows a button and signs nobody in.
    for (let i = 0; i < 2; i++) expect((await fetch(link)).status).toBe(200);
    const first = await fetch(link, { method: 'POST', redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/cgb_admin=[^;]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    expect(cookie).not.toContain('Secure'); // plain http here; behind https the cookie is Secure (next test)
    const again = await fetch(link, { method: 'POST', redirect: 'manual' });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('đã được dùng hoặc đã hết hạn');

    const late = await s.loginLink(BAN_PHO_GROUP, 820001);
    now += 11 * 60_000;
    const expired = await fetch(late);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('hết hạn');
    expect((await fetch(late, { method: 'POST', redirect: 'manual' })).status).toBe(410);
  });

  it('the session cookie is Secure behind an https proxy', async () => {
    const link = await s.loginLink(BAN_PHO_GROUP, 820001);
    const res = await fetch(link, { method: 'POST', redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+; Secure/);
  });

  it('/dangnhap elsewhere than an officials\' group gives no link', async () => {
    const before = s.bot.callsOf('sendMessage', 820009).length;
    expect(await s.inGroup(-1009999999, 820009, '/dangnhap')).toContain('chỉ dùng trong nhóm Telegram của cán bộ');
    expect(s.bot.callsOf('sendMessage', 820009).length).toBe(before);
  });

  it('a commune officer sees only their commune through the API: records, figures, another commune\'s record', async () => {
    const c = await signInOverHttp(s.server.url, await s.loginLink(BAN_PHO_GROUP, 820002));
    const records = (await (await c.get('/admin/api/records?from=2021-07-01&to=2021-07-31')).json()) as { records: Array<{ reference: string; commune: string }> };
    expect(records.records.map((r) => r.reference)).toEqual([banPhoRef]);
    expect((await c.get('/admin/api/records?commune=coc-ly&from=2021-07-01&to=2021-07-31')).status).toBe(403);
    expect((await c.get(`/admin/api/records/${cocLyRef}`)).status).toBe(404);
    expect((await c.get(`/admin/records/${cocLyRef}`)).status).toBe(404);
    expect((await c.get(`/admin/api/records?reference=${cocLyRef}&from=2021-07-01&to=2021-07-31`)).status).toBe(200);
    expect(((await (await c.get(`/admin/api/records?reference=${cocLyRef}&from=2021-07-01&to=2021-07-31`)).json()) as { records: unknown[] }).records).toEqual([]);
    const figures = (await (await c.get('/admin/api/figures?from=2021-07-01&to=2021-07-15')).json()) as { district: unknown; agencies: unknown[]; communes: Array<{ id: string; installs: { count: number; percent: number } }> };
    expect(figures.district).toBeNull();
    expect(figures.agencies).toEqual([]);
    expect(figures.communes).toEqual([expect.objectContaining({ id: 'ban-pho', installs: expect.objectContaining({ count: 1, percent: 25 }) })]);
    // The CSV holds no other commune either.
    const csv = await (await c.get('/admin/report.csv?from=2021-07-01&to=2021-07-15')).text();
    expect(csv).toContain('Xã Bản Phố');
    expect(csv).not.toContain('Xã Cốc Ly');
    // Acknowledging another commune's record changes nothing.
    expect((await c.post(`/admin/records/${cocLyRef}/status`, { _csrf: c.csrf, status: 'acknowledged' })).status).toBe(404);
    const [row] = await s.server.runtime.db.query<{ status: string }>('SELECT status FROM records WHERE reference = $1', [cocLyRef]);
    expect(row!.status).toBe('new');
  });

  it('a form without the session\'s CSRF token changes nothing', async () => {
    const c = await signInOverHttp(s.server.url, await s.loginLink(BAN_PHO_GROUP, 820003));
    const res = await c.post(`/admin/records/${banPhoRef}/status`, { status: 'acknowledged', _csrf: 'forged' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Biểu mẫu');
    const [row] = await s.server.runtime.db.query<{ status: string }>('SELECT status FROM records WHERE reference = $1', [banPhoRef]);
    expect(row!.status).toBe('new');
  });

  it('bad input gets a clear answer: a broken date range, unknown numbers in field figures', async () => {
    const c = await signInOverHttp(s.server.url, await s.loginLink(BAN_PHO_GROUP, 820004));
    const bad = await c.get('/admin?from=2021-13-01&to=2021-07-15');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Ngày không đúng');
    const api = await c.get('/admin/api/figures?from=2021-07-20&to=2021-07-01');
    expect(api.status).toBe(400);
    const field = await c.post('/admin/field', { _csrf: c.csrf, key: '00000000-0000-4000-8000-000000000001', commune: 'coc-ly', day: '2021-07-14', householdsVisited: '5', phonesChecked: '4', installsHelped: '3' });
    expect(field.status).toBe(400);
    expect(await field.text()).toContain('Chọn xã trong phạm vi của bạn');
    const negative = await c.post('/admin/field', { _csrf: c.csrf, key: '00000000-0000-4000-8000-000000000002', commune: 'ban-pho', day: '2021-07-14', householdsVisited: '-5', phonesChecked: '4', installsHelped: '3' });
    expect(negative.status).toBe(400);
    expect(await s.server.runtime.db.query('SELECT 1 FROM field_reports')).toEqual([]);
  });

  it('field figures are stored once with who typed them, even when the form is posted twice', async () => {
    const c = await signInOverHttp(s.server.url, await s.loginLink(BAN_PHO_GROUP, 820005));
    const form = { _csrf: c.csrf, key: '00000000-0000-4000-8000-00000000000a', commune: 'ban-pho', day: '2021-07-14', householdsVisited: '12', phonesChecked: '9', installsHelped: '4' };
    expect((await c.post('/admin/field', form)).status).toBe(303);
    expect((await c.post('/admin/field', form)).status).toBe(303);
    const rows = await s.server.runtime.db.query<{ households_visited: number; entered_by: string }>('SELECT households_visited, entered_by FROM field_reports');
    expect(rows).toEqual([{ households_visited: 12, entered_by: 'Hoàng Văn Sơn (telegram:820005)' }]);
  });

  it('/thongke answers with the group\'s figures against the targets; /timbaocao finds only the group\'s records', async () => {
    const commune = await s.inGroup(BAN_PHO_GROUP, 820006, '/thongke');
    expect(commune).toContain('Bluezone · Xã Bản Phố');
    expect(commune).toContain('Người dân đã cài: 1/4 = 25 % (chỉ tiêu &gt; 50 %: chưa đạt)'); // Telegram HTML
    expect(commune).toContain('Cán bộ đã cài: 1/2 = 50 % (chỉ tiêu 100 %: chưa đạt)');
    expect(commune).toContain('/admin');
    const district = await s.inGroup(DISTRICT_GROUP, 820006, '/thongke@bacha_test_bot');
    expect(district).toContain('Người dân đã cài: 2 (chưa có mẫu số nên chưa tính tỷ lệ)');
    expect(district).toContain('Chưa đạt chỉ tiêu: Xã Bản Phố');

    const found = await s.inGroup(BAN_PHO_GROUP, 820006, `/timbaocao ${banPhoRef.toLowerCase()}`);
    expect(found).toContain(banPhoRef);
    expect(found).toContain('Trạng thái: Mới');
    expect(found).not.toContain('Giàng Thị Mai');
    expect(await s.inGroup(BAN_PHO_GROUP, 820006, `/timbaocao ${cocLyRef}`)).toContain(`Không tìm thấy ${cocLyRef}`);
    expect(await s.inGroup(COC_LY_GROUP, 820007, `/timbaocao ${cocLyRef}`)).toContain(cocLyRef);
    expect(await s.inGroup(COC_LY_GROUP, 820007, '/timbaocao')).toContain('/timbaocao KB-210715-0001');
  });

  it('a district official creates a password account for a commune officer without Telegram, who then sees only that commune', async () => {
    const d = await signInOverHttp(s.server.url, await s.loginLink(DISTRICT_GROUP, 820010));
    const created = await d.post('/admin/accounts', { _csrf: d.csrf, username: 'canbo.cocly', name: 'Vàng Thị Dung', scope: 'commune:coc-ly', password: 'mat-khau-dai-du' });
    expect(created.status).toBe(303);
    const [stored] = await s.server.runtime.db.query<{ password_hash: string }>('SELECT password_hash FROM admin_accounts WHERE username = $1', ['canbo.cocly']);
    expect(stored!.password_hash).toMatch(/^scrypt\$/);
    expect(stored!.password_hash).not.toContain('mat-khau-dai-du');
    // A commune officer cannot create accounts.
    const c = await signInOverHttp(s.server.url, await s.loginLink(BAN_PHO_GROUP, 820011));
    expect((await c.post('/admin/accounts', { _csrf: c.csrf, username: 'x.y.z', name: 'X Y', scope: 'district', password: 'mat-khau-dai-du' })).status).toBe(403);

    const loginPage = await fetch(`${s.server.url}/admin/login`);
    const pre = /cgb_admin_pre=[^;]+/.exec(loginPage.headers.get('set-cookie') ?? '')![0];
    const preToken = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
    const post = (password: string) =>
      fetch(`${s.server.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: preToken, username: 'canbo.cocly', password }).toString() });
    expect((await post('wrong-password')).status).toBe(401);
    const ok = await post('mat-khau-dai-du');
    expect(ok.status).toBe(303);
    const cookie = /cgb_admin=[^;]+/.exec(ok.headers.get('set-cookie') ?? '')![0];
    const records = (await (await fetch(`${s.server.url}/admin/api/records?from=2021-07-01&to=2021-07-31`, { headers: { cookie } })).json()) as { records: Array<{ reference: string }> };
    expect(records.records.map((r) => r.reference)).toEqual([cocLyRef]);

    // Guessing is slowed down: after 10 wrong passwords in 15 minutes even the right one is refused for a while.
    for (let i = 0; i < 9; i++) expect((await post(`wrong-${i}`)).status).toBe(401);
    const refused = await post('mat-khau-dai-du');
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('Sai mật khẩu quá nhiều lần');
    now += 16 * 60_000;
    expect((await post('mat-khau-dai-du')).status).toBe(303);
  });

  it('every view of a personal record and every export is in the audit log', async () => {
    const c = await signInOverHttp(s.server.url, await s.loginLink(BAN_PHO_GROUP, 820012));
    const page = await (await c.get(`/admin/records/${banPhoRef}`)).text();
    expect(page).toContain('Giàng Thị Mai');
    // The triage level in the officials' words, never the rule's code.
    expect(page).toMatch(/<dd>(Cấp cứu|Cách ly tại nhà|Tư vấn phòng dịch)<\/dd>/);
    expect(page).not.toMatch(/<dd>(emergency|isolate|advice)<\/dd>/);
    await (await c.get('/admin/report.xlsx?from=2021-07-01&to=2021-07-15')).arrayBuffer();
    const audit = await s.server.runtime.db.query<{ actor: string; action: string; subject: string }>('SELECT actor, action, subject FROM audit_log WHERE actor = $1 ORDER BY id', ['telegram:820012']);
    expect(audit).toEqual([
      { actor: 'telegram:820012', action: 'view_record', subject: banPhoRef },
      { actor: 'telegram:820012', action: 'export_xlsx', subject: 'commune:ban-pho' },
    ]);
  });

  it('an urgent record nobody acknowledged is reminded once in its group after the set time', async () => {
    const chat = 710003;
    await s.onboard(chat, 'ban pho');
    await s.say(chat, 'khai bao y te');
    for (const answer of ['2', '1', 'Hầu A Sử', '1985', '1', '0987 654 321', '1', 'Thôn Na Hối', '1 3']) await s.say(chat, answer);
    await s.say(chat, '1'); // a danger sign: urgent
    await s.say(chat, '1'); // after "call 115": go on with the form
    for (const answer of ['3', '3', '5', '1', '1']) await s.say(chat, answer);
    const [urgent] = await s.server.runtime.db.query<{ id: number; reference: string; urgency: string }>('SELECT id, reference, urgency FROM records WHERE user_id = $1', [String(chat)]);
    expect(urgent!.urgency).toBe('urgent');
    expect(await s.server.runtime.admin.reminders.runOnce()).toBe(0);
    now += 31 * 60_000;
    expect(await s.server.runtime.admin.reminders.runOnce()).toBe(1);
    expect(await s.server.runtime.admin.reminders.runOnce()).toBe(0);
    await s.server.runtime.dispatcher.runUntilIdle();
    await s.bot.waitFor(() => s.textsTo(BAN_PHO_GROUP).some((t) => t.includes(`${urgent!.reference} (khẩn cấp) chưa ai tiếp nhận sau 30 phút`)));
  });
});

describe('the dashboard\'s words', () => {
  const keys = (o: Record<string, unknown>, prefix = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
  const read = (lang: string, file: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'locales', lang, file), 'utf8')) as Record<string, unknown>;

  it('exist in Vietnamese and English alike', () => {
    expect(keys(read('en', 'admin.json')).sort()).toEqual(keys(read('vi', 'admin.json')).sort());
    for (const lang of ['vi', 'en']) expect(Object.keys(read(lang, 'officials.json'))).toEqual(expect.arrayContaining(['viaDashboard', 'urgentReminder']));
  });

  it('every key the pages and commands use is in the files', () => {
    const used = new Set<string>();
    for (const file of fs.readdirSync(path.join(PROJECT_ROOT, 'src', 'admin')).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(PROJECT_ROOT, 'src', 'admin', file), 'utf8');
      for (const m of text.matchAll(/(?<!i18n\.)\bt\('([A-Za-z_.]+)'/g)) used.add(m[1]!);
    }
    const vi = new Set(keys(read('vi', 'admin.json')));
    expect([...used].filter((k) => !vi.has(k))).toEqual([]);
  });
});
