import { loadConfig } from '../src/config';
import type { ActionContext } from '../src/engine/contracts';
import { FakeZalo, newUserId, onboardOnZalo, sayOnZalo, zaloEnv } from './support/fakeZalo';
import { startServer } from './support/harness';

const ZALO = { accessToken: 'acc-venue-link-3c9e1d', refreshToken: 'ref-venue-link-7a2b4f' };
const OA = '4024926008133882615';
const TEMPLATE = 'https://zalo.me/{oaId}?ref={payload}';
/** What Zalo's in-app browser says it is (from a phone that scanned a poster with Zalo's scanner). */
const ZALO_BROWSER = 'Mozilla/5.0 (Linux; Android 11; SM-A125F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0 Mobile Safari/537.36 Zalo android/12110711 ZaloTheme/light ZaloLanguage/vn';
const now = Date.UTC(2021, 6, 15, 2, 0, 0);

describe('Zalo one-tap check-in: the poster\'s link carries the venue into the OA chat', () => {
  let zalo: FakeZalo;
  let server: Awaited<ReturnType<typeof startServer>>;
  let code: string;

  beforeAll(async () => {
    zalo = await new FakeZalo(ZALO).start();
    server = await startServer({ ...zaloEnv(zalo, ZALO), ZALO_OA_ID: OA, ZALO_CHECKIN_LINK: TEMPLATE }, { clock: () => now });
    const ctx = {
      channel: 'zalo',
      userId: newUserId(),
      eventId: 'register-1',
      locale: 'vi',
      profile: { locale: 'vi', commune: 'ban-pho' },
      answers: { venueName: 'Quán phở Hương', kind: 'eatery', commune: 'ban-pho', address: 'Thôn Bản Phố 1', ownerName: 'Lù Thị Hương', ownerPhone: '+84912345678' },
      now,
      display: () => '',
    } as ActionContext;
    const registered = await server.runtime.venues.actions().registerVenue(ctx);
    if (!registered.ok) throw new Error(JSON.stringify(registered));
    code = String(registered.output!.venueCode);
  });
  afterAll(async () => {
    await server?.close();
    await zalo?.stop();
  });

  const zl = (user: string, text: string): Promise<string> => sayOnZalo(zalo, server.url, user, text);

  it('the check-in page opened in Zalo\'s browser goes on to the OA chat with the venue; elsewhere it offers the same link', async () => {
    const inZalo = await fetch(`${server.url}/v/${code}`, { headers: { 'user-agent': ZALO_BROWSER }, redirect: 'manual' });
    expect(inZalo.status).toBe(302);
    expect(inZalo.headers.get('location')).toBe(`https://zalo.me/${OA}?ref=checkin__code__${code}`);

    const page = await (await fetch(`${server.url}/v/${code}`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0', 'accept-language': 'de-DE, en;q=0.8' } })).text();
    // Vietnamese first, then the visitor's language among those the texts have (no German: English).
    expect(page).toContain('<span class="en" lang="en">You are at: Quán phở Hương');
    expect(page).toContain(`href="https://zalo.me/${OA}?ref=checkin__code__${code}"`);
    expect(page).toContain(`Nếu Zalo mở mà chưa hỏi khai báo, gửi tin nhắn: Mã địa điểm ${code}`);
    // A forged code is not sent on to Zalo.
    expect((await fetch(`${server.url}/v/ZZZZ2345`, { headers: { 'user-agent': ZALO_BROWSER }, redirect: 'manual' })).status).toBe(404);
  });

  it('the message the link makes Zalo send opens the check-in at its entry step; only the tap checks in', async () => {
    const user = newUserId();
    await onboardOnZalo(zalo, server.url, user, 'ban pho');

    expect(await zl(user, `/start checkin__code__${code}`)).toContain('họ và tên');
    await zl(user, 'Giàng Thị Mai');
    expect(await zl(user, '0912 000 111')).toContain('Quán phở Hương');
    const checkins = () => server.runtime.db.query<{ name: string; locale: string }>(`SELECT name, locale FROM venue_checkins WHERE user_id = $1`, [user]);
    expect(await checkins()).toEqual([]);
    expect(await zl(user, '1')).toContain('Đã ghi');
    expect(await checkins()).toEqual([{ name: 'Giàng Thị Mai', locale: 'vi' }]);
    // Anything else starting with a slash is still a message.
    expect(await zl(user, '/start')).not.toContain('Không tìm thấy địa điểm');
  });

  it('a link template that cannot carry the venue stops start-up, naming the variable', () => {
    expect(() => loadConfig({ ZALO_CHECKIN_LINK: 'https://zalo.me/{oaId}' })).toThrow(/ZALO_CHECKIN_LINK: expected the template to carry the venue/);
  });
});
