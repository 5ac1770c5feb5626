import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import type { Browser, Page } from 'playwright-core';
import { FakeBotApi } from './fakeBotApi';
import { startServer, tempDir, testRedisUrl, uniquePrefix } from './harness';
import { groupTextUpdate, textUpdate } from './telegramUpdates';

export const TOKEN = '123456789:AAF1x-dashboard-test-token-abcdef';
export const SECRET = 'dashboard_test_secret';
export const PUBLIC_URL = 'https://bot.bacha.example.gov.vn';
export const DISTRICT_GROUP = -1003000000001;
export const BAN_PHO_GROUP = -1003000000002;
export const COC_LY_GROUP = -1003000000003;

/** The Bắc Hà file with groups for Bản Phố and Cốc Ly, and sourced test denominators for Bản Phố only. */
export function dashboardLocality(): string {
  const loc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'localities', 'bac-ha.json'), 'utf8'));
  loc.communes.find((c: { id: string }) => c.id === 'ban-pho').officialsTelegramChatId = String(BAN_PHO_GROUP);
  loc.communes.find((c: { id: string }) => c.id === 'coc-ly').officialsTelegramChatId = String(COC_LY_GROUP);
  loc.campaign.communes['ban-pho'] = {
    population: { value: 40, source: 'test census', date: '2021-01-01' },
    smartphoneUsers: { value: 4, source: 'test survey', date: '2021-06-30' },
    officials: { value: 2, source: 'test roster', date: '2021-07-01' },
  };
  const file = path.join(tempDir(), 'bac-ha-dashboard.json');
  fs.writeFileSync(file, JSON.stringify(loc));
  return file;
}

/** A server with Telegram on a fake Bot API, and helpers to talk to it as citizens and officials. */
export async function startDashboardServer(clock: () => number) {
  const bot = await FakeBotApi.start(TOKEN);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(
      {
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: bot.url,
        TELEGRAM_WEBHOOK_SECRET: SECRET,
        PUBLIC_URL,
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: uniquePrefix(),
        OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP),
        LOCALITY_FILE: dashboardLocality(),
        URGENT_ACK_REMINDER_MINUTES: '30',
      },
      { clock },
    );
  } catch (err) {
    await bot.close();
    throw err;
  }
  const deliver = async (update: unknown) => {
    const res = await fetch(`${server.url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  };
  const textsTo = (chat: number | string) => bot.callsOf('sendMessage', chat).map((c) => String(c.payload.text));
  async function say(chat: number, text: string): Promise<string> {
    const before = bot.callsOf('sendMessage', chat).length;
    await deliver(textUpdate(chat, text));
    await bot.waitFor(() => bot.callsOf('sendMessage', chat).length > before);
    return textsTo(chat).slice(before).join('\n---\n');
  }
  /** An official writes in a group; resolves with what the bot answered there. */
  async function inGroup(group: number, official: number, text: string): Promise<string> {
    const before = bot.callsOf('sendMessage', group).length;
    await deliver(groupTextUpdate(group, official, text));
    await bot.waitFor(() => bot.callsOf('sendMessage', group).length > before);
    return textsTo(group).slice(before).join('\n---\n');
  }
  async function onboard(chat: number, commune: string, announcements = false): Promise<void> {
    await say(chat, '/start');
    await say(chat, '1');
    await say(chat, commune);
    await say(chat, announcements ? '1' : '2');
  }
  /** "I installed it", then the two once-asked questions; `office` is the commune typed when the person is an official there. */
  async function install(chat: number, answers: { office?: string; declared: boolean }): Promise<void> {
    await say(chat, 'cai bluezone');
    await say(chat, '1');
    await say(chat, '1');
    if (answers.office) {
      await say(chat, '2');
      await say(chat, answers.office);
    } else await say(chat, '3');
    await say(chat, answers.declared ? '1' : '2');
  }
  async function declare(chat: number, name: string, symptoms: string): Promise<string> {
    await say(chat, 'menu');
    await say(chat, 'khai bao y te');
    await say(chat, '2');
    await say(chat, '1');
    await say(chat, name);
    await say(chat, '1990');
    await say(chat, '1');
    await say(chat, '0912 345 678');
    await say(chat, '1');
    await say(chat, 'Thôn Na Lang');
    const afterSymptoms = await say(chat, symptoms);
    if (afterSymptoms.includes('dấu hiệu nào')) await say(chat, '4');
    if (afterSymptoms.includes('Gọi ngay 115')) await say(chat, '1'); // a danger sign: go on with the form
    await say(chat, '3');
    await say(chat, '3');
    await say(chat, '5');
    await say(chat, '1');
    const done = await say(chat, '1');
    await say(chat, 'menu');
    const m = /(KB-\d{6}-\d{4})/.exec(done);
    if (!m) throw new Error(`no reference in: ${done}`);
    return m[1]!;
  }
  /** The one-time link the bot sent an official in a private chat, pointed at the test server. */
  async function loginLink(group: number, official: number): Promise<string> {
    const before = bot.callsOf('sendMessage', official).length;
    await inGroup(group, official, '/dangnhap');
    await bot.waitFor(() => bot.callsOf('sendMessage', official).length > before);
    const text = textsTo(official).at(-1)!;
    const m = /https:\/\/\S+\/admin\/l\/\S+/.exec(text);
    if (!m) throw new Error(`no sign-in link in: ${text}`);
    return m[0].replace(PUBLIC_URL, server.url);
  }
  const close = async () => {
    await server.close().finally(() => bot.close());
  };
  return { bot, server, deliver, textsTo, say, inGroup, onboard, install, declare, loginLink, close };
}

export type DashboardServer = Awaited<ReturnType<typeof startDashboardServer>>;

/** A signed-in HTTP client (cookie and CSRF token), as a browser would be after the one-time link. */
export async function signInOverHttp(url: string, link: string): Promise<{ cookie: string; get: (p: string) => Promise<Response>; post: (p: string, form: Record<string, string>) => Promise<Response>; csrf: string }> {
  const confirm = await fetch(link, { redirect: 'manual' });
  if (confirm.status !== 200) throw new Error(`the link page answered ${confirm.status}`);
  const res = await fetch(link, { method: 'POST', redirect: 'manual' });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = /cgb_admin=[^;]+/.exec(setCookie)?.[0];
  if (res.status !== 303 || !cookie) throw new Error(`sign-in answered ${res.status} without a session cookie`);
  const get = (p: string) => fetch(`${url}${p}`, { headers: { cookie }, redirect: 'manual' });
  const page = await (await get('/admin')).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const post = (p: string, form: Record<string, string>) =>
    fetch(`${url}${p}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(), redirect: 'manual' });
  return { cookie, get, post, csrf };
}

/**
 * An official signs in to the dashboard in a real browser through the one-time link of `/dangnhap` in their group;
 * errors the page reports (a Content-Security-Policy violation is one) are pushed to `errors`.
 */
export async function signInInBrowser(browser: Browser, s: DashboardServer, group: number, official: number, errors: string[], viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true, viewport, locale: 'vi-VN' });
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(await s.loginLink(group, official));
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.waitForURL(`${s.server.url}/admin`);
  return page;
}
