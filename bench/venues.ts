/*
 * Venue check-in benchmark (issue 16): a market day. The real server as its own process (Redis, the embedded
 * database), a fake Bot API on localhost. 200 venues are registered (API), visitors are onboarded (not measured), then
 * BENCH_CHECKINS visitors (default 2,000, "a market day in an hour") check in at the market through the Telegram
 * webhook, each with the poster's deep link, name, phone and the tap, while as many check in at the 199 other venues;
 * then they check out ("rời đi" and the tap). Prints check-ins per second and the server's CPU per check-in and per
 * update. Usage: `npm run bench:venues` (needs redis-server on the PATH, or REDIS_URL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeBotApi } from '../test/support/fakeBotApi';
import { callbackUpdate, textUpdate } from '../test/support/telegramUpdates';
import { cpuMs, peakRssMb, percentile, startRedis } from './benchProcess';
import { BENCH_SECRET, startBenchServer, BENCH_TOKEN } from './benchServer';

const ROOT = path.resolve(__dirname, '..');
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const CHECKINS = Number(process.env.BENCH_CHECKINS ?? 2000);
const VENUES = 200;
const IN_FLIGHT = 50;

async function post(url: string, update: unknown): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': BENCH_SECRET }, body: JSON.stringify(update) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const api = async (url: string, pathname: string, body?: unknown) => {
  const res = await fetch(`${url}${pathname}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-requested-by': 'bench' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status >= 300) throw new Error(`${pathname} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { venue: { id: number; code: string }; visitors: Array<{ checkedOutAt: string | null }> };
};

/** Each person's updates in order, `IN_FLIGHT` people at a time; waits until the fake Bot API stops receiving replies. */
async function run(url: string, fake: FakeBotApi, journeys: unknown[][]): Promise<{ updates: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < journeys.length) for (const u of journeys[next++]!) latencies.push(await post(url, u));
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  let last = -1;
  while (fake.calls.length !== last) {
    last = fake.calls.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { updates: latencies.length, latencies };
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const fake = await FakeBotApi.start(BENCH_TOKEN);
  fake.recordCalls = false;
  const server = await startBenchServer(fake.url, redis.url, fs.mkdtempSync(path.join(os.tmpdir(), 'bench-venues-')), { ADMIN_TOKEN });
  const pid = server.child.pid!;
  try {
    const communes = (JSON.parse(fs.readFileSync(path.join(ROOT, 'localities', 'bac-ha.json'), 'utf8')) as { communes: Array<{ id: string }> }).communes.map((c) => c.id);
    const venues: Array<{ id: number; code: string }> = [];
    for (let i = 0; i < VENUES; i++) {
      const commune = communes[i % communes.length]!;
      const body = { name: i === 0 ? 'Chợ văn hoá Bắc Hà' : `Cửa hàng số ${i}`, kind: i === 0 ? 'market' : 'shop', commune, address: `Thôn ${i}`, requestId: `bench-venue-${i}` };
      const { venue } = await api(server.url, `/api/venues?commune=${commune}`, body);
      venues.push({ id: venue.id, code: venue.code });
    }
    const market = venues[0]!;
    const people = Array.from({ length: 2 * CHECKINS }, (_, i) => ({ chat: 5_000_000 + i, venue: i < CHECKINS ? market : venues[1 + (i % (VENUES - 1))]! }));

    // Not measured: everyone has talked to the bot before (language, commune, no announcements).
    await run(server.url, fake, people.map(({ chat }) => [textUpdate(chat, '/start'), textUpdate(chat, '1'), textUpdate(chat, 'ban pho'), textUpdate(chat, '2')]));

    const from = new Date(Date.now() - 60_000).toISOString();
    const cpu0 = cpuMs(pid);
    const t0 = process.hrtime.bigint();
    const checkin = await run(
      server.url,
      fake,
      people.map(({ chat, venue }) => [
        textUpdate(chat, `/start checkin__code__${venue.code}`),
        textUpdate(chat, `Người Khách ${String.fromCharCode(65 + (chat % 26))}`),
        textUpdate(chat, `09${String(chat).padStart(8, '0').slice(-8)}`),
        callbackUpdate(chat, 'confirm:in'),
      ]),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu1 = cpuMs(pid);
    const checkout = await run(server.url, fake, people.map(({ chat }) => [textUpdate(chat, 'rời đi'), callbackUpdate(chat, 'confirm:out')]));
    const cpu2 = cpuMs(pid);

    const to = new Date(Date.now() + 60_000).toISOString();
    const traced = await api(server.url, `/api/venues/${market.id}/visitors?commune=all&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    if (traced.visitors.length !== CHECKINS) throw new Error(`the market has ${traced.visitors.length} check-ins, expected ${CHECKINS}`);
    const open = traced.visitors.filter((v) => v.checkedOutAt === null).length;
    if (open !== 0) throw new Error(`${open} market visitors were not checked out`);

    const checkins = people.length;
    process.stdout.write(
      `${JSON.stringify(
        {
          venues: VENUES,
          checkins: { atTheMarket: CHECKINS, atOtherVenues: checkins - CHECKINS, inFlight: IN_FLIGHT },
          checkIn: {
            updatesPerCheckin: checkin.updates / checkins,
            checkinsPerSecond: +(checkins / seconds).toFixed(1),
            cpuMsPerCheckin: +((cpu1 - cpu0) / checkins).toFixed(3),
            cpuMsPerUpdate: +((cpu1 - cpu0) / checkin.updates).toFixed(3),
            p50Ms: +percentile(checkin.latencies, 50).toFixed(2),
            p99Ms: +percentile(checkin.latencies, 99).toFixed(2),
          },
          checkOut: { cpuMsPerCheckout: +((cpu2 - cpu1) / checkins).toFixed(3), p99Ms: +percentile(checkout.latencies, 99).toFixed(2) },
          marketDayNeeds: `${CHECKINS} check-ins an hour = ${(CHECKINS / 3600).toFixed(2)} a second at the market`,
          peakRssMb: +peakRssMb(pid).toFixed(1),
          server: fs.existsSync(path.join(ROOT, 'dist', 'main.js')) ? 'dist/main.js' : 'src/main.ts through tsx (run `npm run build` first for figures without tsx)',
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    server.child.kill('SIGTERM');
    await fake.close();
    redis.child?.kill('SIGTERM');
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
