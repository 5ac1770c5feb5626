/*
 * Broadcast benchmark (issue: announcements). The real server runs as its own process with PostgreSQL (a fresh
 * database on the server at BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), a private Redis,
 * and fake Telegram Bot API and Zalo OA servers on localhost with a configurable latency and a sprinkling of 429s,
 * 403s and Zalo -230s. One broadcast is created through the HTTP API; the script prints the achieved send rate ÷ the
 * configured rate per channel, duplicates, lost recipients and the server's peak RSS, for 10,000 and for 100,000
 * recipients, and again for 100,000 with the server killed (SIGKILL) half way and restarted.
 *
 * A last scenario sends to 10,000 Zalo followers of whom 70 % have not written in 7 days, with the OA's template
 * and article paths on: an urgent announcement (template to the 40 % of them who shared a phone, 1 % of those phones
 * invalid; the rest to their box), then a district-wide general one (one OA article broadcast), and prints the count
 * per path, recipients reached twice and recipients reached by no path.
 *
 * Per scenario it also prints the CPU time per delivered message: the server process's (utime + stime, both processes
 * when it is killed and restarted) and the PostgreSQL backends' serving its database (from /proc, when PostgreSQL runs
 * on this machine), and the deliveries per second over all channels.
 *
 * Usage: npm run bench:broadcast   (env: BENCH_RECIPIENTS=100000 BENCH_LATENCY_MS=5 BENCH_TELEGRAM_RATE=300
 *                                   BENCH_ZALO_RATE_PER_MINUTE=12000 BENCH_SKIP_KILL=1 BENCH_SKIP_REACH=1
 *                                   BENCH_NODE_OPTIONS=... BENCH_CPU_PROF=<dir>)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { FakeBotApi } from '../test/support/fakeBotApi';
import { FakeZalo, zaloEnv } from '../test/support/fakeZalo';
import { freePort } from '../test/support/freePort';
import { cpuMs } from './benchProcess';

const ROOT = path.resolve(__dirname, '..');
const TOKEN = '424242424:AAH-broadcast-bench-token-abcdefgh';
const ADMIN = 'bench-admin-token-0123456789abcdef';
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 5);
const TELEGRAM_RATE = Number(process.env.BENCH_TELEGRAM_RATE ?? 300);
const ZALO_RATE_PER_MINUTE = Number(process.env.BENCH_ZALO_RATE_PER_MINUTE ?? 12_000);
const TELEGRAM_SHARE = 0.6;
const RATE_LIMITED = 3;
const INITIAL = { accessToken: 'acc-bench-1', refreshToken: 'ref-bench-1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Samples the CPU ms of the PostgreSQL backends serving `dbName` into `seen` (a backend first seen later counts from
 * 0), except the backend of this script's own polling (`ownPid`), measured apart.
 */
async function backendsCpu(admin: pg.Client, dbName: string, seen: Map<number, { first: number; last: number }>, ownPid: number): Promise<void> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [dbName, ownPid]);
  for (const { pid } of rows) {
    let used: number;
    try {
      used = cpuMs(pid);
    } catch {
      continue; // gone, or PostgreSQL runs elsewhere
    }
    const s = seen.get(pid);
    if (s) s.last = used;
    else seen.set(pid, { first: 0, last: used });
  }
}

/** CPU ms of a process, 0 when it cannot be read (PostgreSQL on another machine). */
function cpuOrZero(pid: number): number {
  try {
    return cpuMs(pid);
  } catch {
    return 0;
  }
}

interface Scenario {
  name: string;
  recipients: number;
  killHalfWay: boolean;
  topic: 'urgent' | 'news';
}

const REACH_FOLLOWERS = Number(process.env.BENCH_REACH_FOLLOWERS ?? 10_000);
const TEMPLATE_ID = '318562';

async function main(): Promise<void> {
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  // Not left running when the benchmark fails (nor the server: see startServer).
  process.on('exit', () => {
    redis.kill();
    server?.kill('SIGKILL');
  });
  await sleep(300);
  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  const dbName = `bench_broadcast_${process.pid}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = BASE_URL.replace(/\/[^/]*$/, `/${dbName}`);

  const bot = await FakeBotApi.start(TOKEN);
  bot.recordCalls = false;
  bot.delayMs = LATENCY_MS;
  const zalo = await new FakeZalo(INITIAL).start();
  zalo.sendDelayMs = LATENCY_MS;

  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cgb-bench-')),
    DATABASE_URL: dbUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: bot.url,
    TELEGRAM_MODE: 'webhook',
    ...zaloEnv(zalo, INITIAL, {
      ZALO_RATE_LIMIT_PER_MINUTE: String(ZALO_RATE_PER_MINUTE * 2),
      ZALO_TEMPLATE_ID: TEMPLATE_ID,
      ZALO_TEMPLATE_API_ROOT: zalo.templateRoot,
      ZALO_ARTICLE_CITIES: '5',
      ZALO_ARTICLE_COVER_URL: 'https://bacha.laocai.gov.vn/cover.jpg',
    }),
    ADMIN_TOKEN: ADMIN,
    TELEGRAM_BROADCAST_RATE: String(TELEGRAM_RATE),
    ZALO_BROADCAST_RATE_PER_MINUTE: String(ZALO_RATE_PER_MINUTE),
    BROADCAST_CONCURRENCY: '32',
    // e.g. BENCH_NODE_OPTIONS=--max-old-space-size=64: a bounded heap shows that memory does not grow with recipients.
    NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '',
  };

  let server: ChildProcess | null = null;
  let peakRss = 0;
  const startServer = async () => {
    // BENCH_CPU_PROF=<dir>: the server under `node --cpu-prof` (a flag Node refuses in NODE_OPTIONS), as in benchServer.ts.
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    server = spawn(process.execPath, [...prof, path.join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error('the server did not become ready within 20 s');
  };
  const sampler = setInterval(() => {
    if (server?.pid) peakRss = Math.max(peakRss, rssOf(server.pid));
  }, 100);

  await startServer();
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  // This script's own polling (progress counts every 250 ms) is not the server's work: measured apart.
  const ownBackend = Number((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);

  const scenarios: Scenario[] = [
    { name: '10,000 recipients', recipients: Math.min(10_000, RECIPIENTS), killHalfWay: false, topic: 'news' },
    ...(RECIPIENTS > 10_000 ? [{ name: `${RECIPIENTS.toLocaleString('en')} recipients`, recipients: RECIPIENTS, killHalfWay: false, topic: 'news' as const }] : []),
    ...(process.env.BENCH_SKIP_KILL
      ? []
      : [
          { name: `${RECIPIENTS.toLocaleString('en')} recipients, general, sender killed half way and restarted`, recipients: RECIPIENTS, killHalfWay: true, topic: 'news' as const },
          { name: `${RECIPIENTS.toLocaleString('en')} recipients, urgent, sender killed half way and restarted`, recipients: RECIPIENTS, killHalfWay: true, topic: 'urgent' as const },
        ]),
  ];
  const rows: string[] = [];

  for (const [index, scenario] of scenarios.entries()) {
    // Fresh subscribers for each scenario, in their own commune list: Telegram ids from 10^9, Zalo ids from 10^17.
    await db.query('TRUNCATE subscriptions');
    const telegramCount = Math.round(scenario.recipients * TELEGRAM_SHARE);
    const zaloCount = scenario.recipients - telegramCount;
    const communes = ['ban-cai', 'ban-lien', 'ban-pho', 'bao-nhai', 'coc-lau', 'coc-ly', 'na-hoi', 'nam-det'];
    await db.query(
      `INSERT INTO subscriptions (channel, user_id, commune, locale, urgent, news, updated_at)
       SELECT 'telegram', (1000000000 + $1::bigint * 10000000 + g)::text, ($2::text[])[1 + g % 8], 'vi', true, true, now() FROM generate_series(1, $3) g`,
      [index, communes, telegramCount],
    );
    await db.query(
      `INSERT INTO subscriptions (channel, user_id, commune, locale, urgent, news, updated_at)
       SELECT 'zalo', (100000000000000000 + $1::bigint * 10000000 + g)::text, ($2::text[])[1 + g % 8], 'vi', true, true, now() FROM generate_series(1, $3) g`,
      [index, communes, zaloCount],
    );
    // A sprinkling of trouble: 0.5% blocked the bot (403), three 429s (retry_after 1 s, which pauses every sender:
    // that time is left out of the rate), 0.5% of Zalo users outside the 7-day window.
    const tgIds = (await db.query<{ user_id: string }>(`SELECT user_id FROM subscriptions WHERE channel = 'telegram' ORDER BY random() LIMIT $1`, [Math.ceil(telegramCount * 0.005) + RATE_LIMITED])).rows.map((r) => r.user_id);
    const blocked = new Set(tgIds.slice(0, Math.ceil(telegramCount * 0.005)));
    const limited = new Set(tgIds.slice(blocked.size));
    bot.clearFailures();
    bot.fail('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' }, { times: 1e9, match: (p) => blocked.has(String(p.chat_id)) });
    const limitedOnce = new Set(limited);
    bot.fail('sendMessage', { status: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } }, { times: 1e9, match: (p) => limitedOnce.delete(String(p.chat_id)) });
    const outside = (await db.query<{ user_id: string }>(`SELECT user_id FROM subscriptions WHERE channel = 'zalo' ORDER BY random() LIMIT $1`, [Math.ceil(zaloCount * 0.005)])).rows.map((r) => r.user_id);
    zalo.scriptedErrors.clear();
    for (const id of outside) zalo.scriptedErrors.set(id, [-230]);
    bot.delivered.clear();
    bot.firstDeliveredAt = 0;
    bot.lastDeliveredAt = 0;
    zalo.sent.length = 0;
    peakRss = 0;

    const marker = `[bench ${index}]`;
    // CPU of the server (and of the PostgreSQL backends serving it) from here to the end of the broadcast.
    const backends = new Map<number, { first: number; last: number }>();
    await backendsCpu(admin, dbName, backends, ownBackend);
    for (const b of backends.values()) b.first = b.last;
    let serverCpu = -cpuMs(server!.pid!);
    // The rest of the machine's work for the same messages: Redis, this script (the fake platforms, the polling)
    // and its PostgreSQL backend.
    const redisCpu0 = cpuMs(redis.pid!);
    const benchCpu0 = process.cpuUsage();
    const pollCpu0 = cpuOrZero(ownBackend);
    const load0 = os.loadavg()[0]!;
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/broadcasts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ communes: 'all', topic: scenario.topic, text: { vi: `${marker} Thông báo kiểm tra hệ thống.` } }),
    });
    if (res.status !== 201) throw new Error(`creating the broadcast failed: ${res.status} ${await res.text()}`);
    const { id, total } = (await res.json()) as { id: number; total: number };

    let killed = false;
    let restartSeconds = 0;
    const firstSend: Record<string, number> = {};
    const lastSend: Record<string, number> = {};
    for (;;) {
      await sleep(250);
      const { rows: counts } = await db.query<{ channel: string; done: number; pending: number }>(
        `SELECT channel, count(*) FILTER (WHERE status NOT IN ('pending', 'sending'))::int AS done, count(*) FILTER (WHERE status IN ('pending', 'sending'))::int AS pending
           FROM deliveries WHERE broadcast_id = $1 GROUP BY channel`,
        [id],
      );
      const done = counts.reduce((a, c) => a + c.done, 0);
      for (const c of counts) {
        if (c.done > 0 && firstSend[c.channel] === undefined) firstSend[c.channel] = Date.now();
        // Rows left 'sending' by the killed process wait for their lease to expire: not sending time.
        const { rows: live } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE broadcast_id = $1 AND channel = $2 AND status = 'pending'`, [id, c.channel]);
        if (live[0]!.n > 0 || lastSend[c.channel] === undefined) lastSend[c.channel] = Date.now();
      }
      if (scenario.killHalfWay && !killed && done >= total / 2) {
        killed = true;
        const down = Date.now();
        serverCpu += cpuMs(server!.pid!);
        server!.kill('SIGKILL');
        await new Promise((r) => server!.once('exit', r));
        await startServer();
        restartSeconds = (Date.now() - down) / 1000;
      }
      await backendsCpu(admin, dbName, backends, ownBackend);
      const { rows: b } = await db.query<{ status: string }>('SELECT status FROM broadcasts WHERE id = $1', [id]);
      if (b[0]?.status !== 'sending') break;
      if (Date.now() - started > 30 * 60_000) throw new Error('the broadcast did not finish within 30 minutes');
    }
    const seconds = (Date.now() - started) / 1000;
    serverCpu += cpuMs(server!.pid!);
    await backendsCpu(admin, dbName, backends, ownBackend);
    const databaseCpu = [...backends.values()].reduce((a, b) => a + b.last - b.first, 0);
    const redisCpu = cpuMs(redis.pid!) - redisCpu0;
    const benchUsage = process.cpuUsage(benchCpu0);
    const benchCpu = (benchUsage.user + benchUsage.system) / 1000;
    const pollCpu = cpuOrZero(ownBackend) - pollCpu0;
    const load1 = os.loadavg()[0]!;

    const { rows: statuses } = await db.query<{ channel: string; status: string; n: number }>(
      `SELECT channel, status, count(*)::int AS n FROM deliveries WHERE broadcast_id = $1 GROUP BY channel, status ORDER BY channel, status`,
      [id],
    );
    // Duplicates: a recipient who received this broadcast more than once. Lost: a recipient the platform never got a
    // message for, although nothing (blocked, outside window, failure) explains it.
    const tgDelivered = bot.delivered;
    const zaloDelivered = new Map<string, number>();
    for (const m of zalo.sent) if (String(m.message.text ?? '').includes(marker)) zaloDelivered.set(m.userId, (zaloDelivered.get(m.userId) ?? 0) + 1);
    const duplicates = [...tgDelivered.values(), ...zaloDelivered.values()].filter((n) => n > 1).length;
    const { rows: resentRows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE broadcast_id = $1 AND lost_in_flight > 0`, [id]);
    const { rows: shouldHave } = await db.query<{ channel: string; user_id: string }>(
      `SELECT channel, user_id FROM deliveries WHERE broadcast_id = $1 AND status IN ('sent', 'unknown')`,
      [id],
    );
    const lost = shouldHave.filter((r) => !(r.channel === 'telegram' ? tgDelivered.has(r.user_id) : zaloDelivered.has(r.user_id))).length;
    // The achieved rate is what the fake platforms accepted between their first and last message of this broadcast;
    // the time every sender was told to wait (429 retry_after) and the restart are not sending time.
    const zaloTimes = zalo.sent.filter((m) => String(m.message.text ?? '').includes(marker)).map((m) => m.at);
    const spans: Record<string, [number, number, number]> = {
      telegram: [bot.firstDeliveredAt, bot.lastDeliveredAt, [...tgDelivered.values()].reduce((a, n) => a + n, 0)],
      zalo: [Math.min(...zaloTimes), Math.max(...zaloTimes), zaloTimes.length],
    };
    const delivered = spans.telegram![2] + spans.zalo![2];
    const achievedOf = (ch: string) => {
      const [first, last, n] = spans[ch]!;
      const paused = (ch === 'telegram' ? RATE_LIMITED : 0) + (killed ? restartSeconds : 0);
      const span = (last - first) / 1000 - paused;
      return span > 0 ? (n - 1) / span : 0;
    };
    const rateOf = (ch: string, configured: number) => {
      const [first, last, n] = spans[ch]!;
      const achieved = achievedOf(ch);
      const raw = last > first ? (n - 1) / ((last - first) / 1000) : 0;
      return `${achieved.toFixed(1)}/s of ${configured.toFixed(0)}/s = ${(achieved / configured).toFixed(3)} (${(raw / configured).toFixed(3)} counting the pauses)`;
    };
    rows.push(
      [
        `## ${scenario.name}`,
        `recipients ${total} (Telegram ${telegramCount}, Zalo ${zaloCount}); finished in ${seconds.toFixed(1)} s`,
        `rate Telegram: ${rateOf('telegram', TELEGRAM_RATE)}; Zalo: ${rateOf('zalo', ZALO_RATE_PER_MINUTE / 60)} (accepted by the fake platform ÷ configured)`,
        `deliveries per second, all channels: ${(delivered / (seconds - (killed ? restartSeconds : 0))).toFixed(0)} (${delivered} delivered in ${seconds.toFixed(1)} s${killed ? ', restart left out' : ''}); while sending, the pauses left out: ${achievedOf('telegram').toFixed(0)} + ${achievedOf('zalo').toFixed(0)} = ${(achievedOf('telegram') + achievedOf('zalo')).toFixed(0)}/s (Telegram + Zalo side by side)`,
        `CPU per delivered message: server ${(serverCpu / delivered).toFixed(3)} ms, PostgreSQL backends ${(databaseCpu / delivered).toFixed(3)} ms (${backends.size} backends seen); besides: Redis ${(redisCpu / delivered).toFixed(3)} ms, this script (fake platforms) ${(benchCpu / delivered).toFixed(3)} ms, its polling's backend ${(pollCpu / delivered).toFixed(3)} ms`,
        `load average (1 min) at the start and the end: ${load0.toFixed(2)}, ${load1.toFixed(2)} on ${os.cpus().length} cores`,
        `duplicates: ${duplicates}; lost: ${lost}${killed ? `; sender back ${restartSeconds.toFixed(1)} s after the kill; in flight at the kill: ${resentRows[0]!.n} (${scenario.topic === 'urgent' ? 'resent' : 'unknown, not resent'})` : ''}`,
        `outcomes: ${statuses.map((s) => `${s.channel}/${s.status} ${s.n}`).join(', ')}`,
        `peak RSS of the server: ${(peakRss / 1024 / 1024).toFixed(0)} MB${killed ? ' (after the restart)' : ''}`,
      ].join('\n'),
    );
    console.log(rows.at(-1));
  }

  if (!process.env.BENCH_SKIP_REACH) {
    rows.push(...(await reachScenario(db, zalo, port)));
    console.log(rows.at(-1));
  }

  clearInterval(sampler);
  console.log(`\nbench:broadcast on ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}, latency ${LATENCY_MS} ms per platform call\n`);
  console.log(rows.join('\n\n'));
  server!.kill('SIGTERM');
  await sleep(500);
  await db.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
  await bot.close();
  await zalo.stop();
  redis.kill();
}

/**
 * 10,000 Zalo followers, 70 % outside the 7-day window: an urgent announcement and a district-wide general one.
 * Every recipient must be reached by exactly one path (a consultation message, a template message, the article
 * broadcast, or their box): none twice, none lost.
 */
async function reachScenario(db: pg.Client, zalo: FakeZalo, port: number): Promise<string[]> {
  await db.query('TRUNCATE subscriptions');
  await db.query('TRUNCATE zalo_shared_phones');
  const communes = ['ban-cai', 'ban-lien', 'ban-pho', 'bao-nhai', 'coc-lau', 'coc-ly', 'na-hoi', 'nam-det'];
  await db.query(
    `INSERT INTO subscriptions (channel, user_id, commune, locale, urgent, news, updated_at)
     SELECT 'zalo', (200000000000000000 + g)::text, ($1::text[])[1 + g % 8], 'vi', true, true, now() FROM generate_series(1, $2) g`,
    [communes, REACH_FOLLOWERS],
  );
  const ids = (await db.query<{ user_id: string }>(`SELECT user_id FROM subscriptions WHERE channel = 'zalo' ORDER BY random()`)).rows.map((r) => r.user_id);
  const outside = ids.slice(0, Math.round(ids.length * 0.7));
  const withPhone = outside.slice(0, Math.round(outside.length * 0.4));
  const badPhone = new Set(withPhone.slice(0, Math.ceil(withPhone.length * 0.01)));
  await db.query(
    `INSERT INTO zalo_shared_phones (user_id, phone, shared_at) SELECT u, CASE WHEN u = ANY($2::text[]) THEN '12345' ELSE '09' || lpad((row_number() OVER ())::text, 8, '0') END, now() FROM unnest($1::text[]) u`,
    [withPhone, [...badPhone]],
  );
  zalo.scriptedErrors.clear();
  zalo.outsideWindow.clear();
  for (const u of outside) zalo.outsideWindow.add(u);
  zalo.zbs.approved.add(TEMPLATE_ID);
  const out: string[] = [];
  for (const topic of ['urgent', 'news'] as const) {
    zalo.sent.length = 0;
    zalo.templates.length = 0;
    const articlesBefore = zalo.articleBroadcasts.length;
    const marker = `[reach ${topic}]`;
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/broadcasts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ communes: 'all', topic, text: { vi: `${marker} Thông báo tới mọi người theo dõi.` } }),
    });
    if (res.status !== 201) throw new Error(`creating the broadcast failed: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: number };
    for (;;) {
      await sleep(250);
      const { rows: b } = await db.query<{ status: string }>('SELECT status FROM broadcasts WHERE id = $1', [id]);
      if (b[0]?.status !== 'sending') break;
      if (Date.now() - started > 30 * 60_000) throw new Error('the broadcast did not finish within 30 minutes');
    }
    const seconds = (Date.now() - started) / 1000;
    const { rows } = await db.query<{ user_id: string; status: string; boxed: boolean }>(
      `SELECT d.user_id, d.status, EXISTS (SELECT 1 FROM announcement_box x WHERE x.channel = 'zalo' AND x.user_id = d.user_id AND x.broadcast_id = d.broadcast_id) AS boxed
         FROM deliveries d WHERE d.broadcast_id = $1`,
      [id],
    );
    const byStatus: Record<string, number> = {};
    for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    // What each recipient actually got, from the fake OA's side (and the box table).
    const phoneOf = new Map((await db.query<{ user_id: string; phone: string }>('SELECT user_id, phone FROM zalo_shared_phones')).rows.map((r) => [r.user_id, `84${r.phone.slice(1)}`]));
    const cs = new Map<string, number>();
    for (const m of zalo.sent) if (String(m.message.text ?? '').includes(marker)) cs.set(m.userId, (cs.get(m.userId) ?? 0) + 1);
    const templates = new Map<string, number>();
    for (const t of zalo.templates) if (String(t.data.content ?? '').includes(marker)) templates.set(t.phone, (templates.get(t.phone) ?? 0) + 1);
    const articleSent = zalo.articleBroadcasts.length - articlesBefore;
    let twice = 0;
    let lost = 0;
    for (const r of rows) {
      const paths = (cs.get(r.user_id) ?? 0) + (templates.get(phoneOf.get(r.user_id) ?? '') ?? 0) + (r.status === 'article' && articleSent === 1 ? 1 : 0) + (r.boxed ? 1 : 0);
      if (paths > 1) twice++;
      if (paths === 0) lost++;
    }
    out.push(
      [
        `## ${REACH_FOLLOWERS.toLocaleString('en')} Zalo followers, 70 % outside the 7-day window, ${topic === 'urgent' ? 'urgent' : 'general, district-wide'}`,
        `finished in ${seconds.toFixed(1)} s; OA article broadcasts: ${articleSent}`,
        `per path: sent within 7 days ${byStatus.sent ?? 0}, template message ${byStatus.template ?? 0}, article ${byStatus.article ?? 0}, waiting in the box ${byStatus.boxed ?? 0}, other ${rows.length - (byStatus.sent ?? 0) - (byStatus.template ?? 0) - (byStatus.article ?? 0) - (byStatus.boxed ?? 0)}`,
        `reached twice: ${twice}; reached by no path: ${lost}`,
      ].join('\n'),
    );
    console.log(out.at(-1));
  }
  return out;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
