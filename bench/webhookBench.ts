/*
 * Webhook benchmark of issues 8 and 18 (DESIGN.md, "Performance budget"). `npm run bench:webhook` builds, then starts
 * two servers side by side: the real server (`dist/main.js`, as `npm start` does) with TELEGRAM_MODE=webhook, a
 * private redis-server (or REDIS_URL), PGlite in a temporary DATA_DIR (or DATABASE_URL) and TELEGRAM_API_ROOT pointing
 * at a fake Bot API on localhost; and the peer, an idiomatic grammY bot (bench/peer/: grammy + conversations +
 * storage-redis + Express `webhookCallback`; its dependencies are installed on first use). Both are driven through
 * the same journey: /start → language → commune → announcements → main menu → a full health declaration → confirm →
 * the daily-update offer. Each user's updates go strictly one after another (as Telegram orders them per chat); many
 * users are in flight at once.
 *
 * Each server runs pinned to one core (the last) when the machine has more than one; the load generator and Redis run
 * on the others. The loaded scenario runs in pairs (peer, ours, peer, ours, ...) and the ratio of CPU per update is
 * taken per pair, then the median: this machine drifts between two runs enough to move a ratio by half.
 *
 * Printed per run: updates per second, webhook latency p50/p99/max, CPU ms of the server process per update (utime +
 * stime from /proc/<pid>/stat, read after every reply has reached the fake Bot API), peak RSS (VmHWM), the journeys
 * completed of expected (the confirmation with a record reference reached the chat, and the last reply came) and the
 * count of non-2xx answers. Then an unloaded run (50 users × 1 in flight) of each, for the p99.
 *
 * Environment: BENCH_PAIRS=3 (loaded pairs), BENCH_LOADED=1000x100 and BENCH_UNLOADED=50x1 (users x in flight),
 * BENCH_ONLY=ours|peer, BENCH_CPU_PROF=<dir> (servers run with --cpu-prof), BENCH_SERVER_LOG=<file> (server stdout).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeBotApi } from '../test/support/fakeBotApi';
import { textUpdate } from '../test/support/telegramUpdates';
import { cpuMs, startRedis } from './benchProcess';
import { BENCH_SECRET, BENCH_TOKEN, pinSelfAwayFrom, serverCore, startBenchServer, startPeerServer } from './benchServer';

const SECRET = BENCH_SECRET;

/** One citizen's journey, in the order they type. The declaration's answers follow test/records.test.ts. */
const JOURNEY = [
  '/start',
  '1', // Tiếng Việt
  'ban pho', // commune
  '1', // yes, announcements
  '1', // main menu → health declaration
  '2', // tell the commune health station (1 is the national declaration's instructions)
  '1', // for myself
  'Giàng Thị Mai',
  '1985',
  '2', // female
  '0912 345 678',
  '1', // yes, my commune
  'Thôn Na Lang',
  '1 2', // fever, cough
  '4', // no danger signs
  '3', // no travel
  '3', // no contact
  '5', // no chronic illness
  '1', // may be called
  '1', // confirm the summary
  '2', // no daily update reminders
];

/** Short names of the journey's updates for the report (the typed texts themselves are sample personal data). */
const STEP_NAMES = ['start', 'language', 'commune', 'announcements', 'menu', 'station', 'forWhom', 'name', 'birthYear', 'sex', 'phone', 'sameCommune', 'village', 'symptoms', 'dangerSigns', 'travel', 'contact', 'chronic', 'mayCall', 'confirm', 'dailyOffer'];

function rssMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function post(url: string, update: unknown): Promise<{ ms: number; status: number }> {
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
  await res.arrayBuffer();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.status };
}

interface PhaseResult {
  users: number;
  inFlight: number;
  updates: number;
  seconds: number;
  latencies: number[];
  /** Latencies per position in the journey, to show which updates make the tail. */
  byStep: number[][];
  non2xx: number;
  journeysCompleted: number;
}

/** Runs the journeys of `users` users, `inFlight` users at a time, each user's updates one after another. */
async function phase(url: string, fake: FakeBotApi, firstChat: number, users: number, inFlight: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  const byStep: number[][] = JOURNEY.map(() => []);
  let next = 0;
  let non2xx = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < users) {
      const chat = firstChat + next++;
      for (const [i, text] of JOURNEY.entries()) {
        const { ms, status } = await post(url, textUpdate(chat, text));
        latencies.push(ms);
        byStep[i]!.push(ms);
        if (status < 200 || status > 299) non2xx++;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // A webhook answers at most REPLY_WAIT_MS after its commit; late replies still count: wait until they stop coming.
  let last = -1;
  while (fake.calls.length !== last) {
    last = fake.calls.length;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { users, inFlight, updates: latencies.length, seconds, latencies, byStep, non2xx, journeysCompleted: countCompleted(fake, firstChat, users) };
}

/** A journey is complete when its chat got the record reference (KB-…) and, after it, the answer to the last update. */
function countCompleted(fake: FakeBotApi, firstChat: number, users: number): number {
  const perChat = new Map<number, string[]>();
  for (const c of fake.calls) {
    if (c.method !== 'sendMessage') continue;
    const chat = Number(c.payload.chat_id);
    if (chat < firstChat || chat >= firstChat + users) continue;
    let texts = perChat.get(chat);
    if (!texts) perChat.set(chat, (texts = []));
    texts.push(String(c.payload.text));
  }
  if (process.env.BENCH_SHOW_JOURNEY) process.stderr.write(`${(perChat.get(firstChat) ?? []).map((t) => t.slice(0, 120).replace(/\n/g, ' | ')).join('\n')}\n`);
  let done = 0;
  for (const texts of perChat.values()) {
    const ref = texts.findIndex((t) => /KB-\d{6}-\d{4}/.test(t));
    if (ref >= 0 && ref < texts.length - 1) done++;
  }
  return done;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (x: number, digits = 2) => +x.toFixed(digits);

interface Bot {
  name: 'ours' | 'peer';
  child: ChildProcess;
  url: string;
  fake: FakeBotApi;
}

interface RunFigures {
  updatesPerSecond: number;
  cpuMsPerUpdate: number;
  latencyMs: { p50: number; p99: number; max: number };
  slowestStepsP95Ms: string[];
  journeysCompleted: string;
  non2xx: number;
  botApiCalls: number;
  peakRssMbSoFar: number;
}

let nextChat = 2_000_000;

/** One measured run of `users` × `inFlight` against one bot, on chats no run used before. */
async function measure(bot: Bot, users: number, inFlight: number): Promise<RunFigures & { ok: boolean }> {
  const pid = bot.child.pid!;
  bot.fake.calls.length = 0;
  const firstChat = nextChat;
  nextChat += 1_000_000;
  const cpu0 = cpuMs(pid);
  const r = await phase(bot.url, bot.fake, firstChat, users, inFlight);
  const cpu1 = cpuMs(pid);
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const figures: RunFigures = {
    updatesPerSecond: Math.round(r.updates / r.seconds),
    cpuMsPerUpdate: round((cpu1 - cpu0) / r.updates, 3),
    latencyMs: { p50: round(pct(sorted, 50)), p99: round(pct(sorted, 99)), max: round(sorted[sorted.length - 1]!) },
    slowestStepsP95Ms: r.byStep
      .map((xs, i) => ({ step: `${i + 1}:${JOURNEY[i]!.startsWith('/') ? JOURNEY[i] : STEP_NAMES[i]}`, p95: round(pct([...xs].sort((a, b) => a - b), 95)) }))
      .sort((a, b) => b.p95 - a.p95)
      .slice(0, 3)
      .map((x) => `${x.step} ${x.p95}`),
    journeysCompleted: `${r.journeysCompleted}/${users}`,
    non2xx: r.non2xx,
    botApiCalls: bot.fake.calls.length,
    peakRssMbSoFar: round(rssMb(pid, 'VmHWM'), 1),
  };
  bot.fake.calls.length = 0;
  process.stderr.write(`bench: ${bot.name} ${users}x${inFlight}: ${figures.cpuMsPerUpdate} ms CPU/update, ${figures.updatesPerSecond} updates/s, p99 ${figures.latencyMs.p99} ms, ${figures.journeysCompleted} journeys, ${figures.non2xx} non-2xx\n`);
  return { ...figures, ok: r.non2xx === 0 && r.journeysCompleted === users };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const scenario = (s: string) => s.split('x').map(Number) as [number, number];

async function main(): Promise<void> {
  const pairs = Math.max(1, Number(process.env.BENCH_PAIRS ?? 3));
  const [users, inFlight] = scenario(process.env.BENCH_LOADED ?? '1000x100');
  const [quietUsers, quietInFlight] = scenario(process.env.BENCH_UNLOADED ?? '50x1');
  const only = process.env.BENCH_ONLY;
  const core = serverCore();
  pinSelfAwayFrom(core);
  const redis = await startRedis();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webhook-'));
  const bots: Bot[] = [];
  let failed = false;
  try {
    // Both servers are started before either is measured, so that neither pays for the other's start-up.
    if (only !== 'ours') {
      const fake = await FakeBotApi.start(BENCH_TOKEN);
      bots.push({ name: 'peer', fake, ...(await startPeerServer(fake.url, redis.url, { cpu: core })) });
    }
    if (only !== 'peer') {
      const fake = await FakeBotApi.start(BENCH_TOKEN);
      bots.push({ name: 'ours', fake, ...(await startBenchServer(fake.url, redis.url, dataDir, {}, { cpu: core })) });
    }
    await new Promise((r) => setTimeout(r, 500));
    const idleRssMb = Object.fromEntries(bots.map((b) => [b.name, round(rssMb(b.child.pid!, 'VmRSS'), 1)]));
    // Warm-up (JIT, connections, caches); not reported.
    for (const bot of bots) await phase(bot.url, bot.fake, 1_000_000 + (bot.name === 'ours' ? 500_000 : 0), 100, 8);

    const loaded: Record<string, RunFigures[]> = Object.fromEntries(bots.map((b) => [b.name, []]));
    for (let pair = 0; pair < pairs; pair++) {
      for (const bot of bots) {
        const { ok, ...figures } = await measure(bot, users, inFlight);
        if (!ok) failed = true;
        loaded[bot.name]!.push(figures);
      }
    }
    const unloaded: Record<string, RunFigures> = {};
    for (const bot of bots) {
      const { ok, ...figures } = await measure(bot, quietUsers, quietInFlight);
      if (!ok) failed = true;
      unloaded[bot.name] = figures;
    }

    const ours = loaded.ours;
    const peer = loaded.peer;
    const ratios = ours && peer ? ours.map((o, i) => round(o.cpuMsPerUpdate / peer[i]!.cpuMsPerUpdate, 3)) : [];
    const report = {
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`,
      date: new Date().toISOString(),
      servers: `${core === undefined ? 'not pinned' : `each pinned to core ${core}`}; ours with ${process.env.DATABASE_URL ? 'DATABASE_URL (PostgreSQL)' : 'PGlite (embedded default)'}`,
      journey: `${JOURNEY.length} updates per user`,
      idleRssMb,
      [`${users} users x ${inFlight} in flight, ${pairs} interleaved pairs`]: loaded,
      [`${quietUsers} users x ${quietInFlight} in flight (unloaded)`]: unloaded,
      peakRssMb: Object.fromEntries(bots.map((b) => [b.name, round(rssMb(b.child.pid!, 'VmHWM'), 1)])),
      ...(ratios.length
        ? {
            cpuPerUpdateOursOverPeer: { perPair: ratios, median: median(ratios), target: '≤ 0.4' },
            updatesPerSecondOursOverPeer: { perPair: ours!.map((o, i) => round(o.updatesPerSecond / peer![i]!.updatesPerSecond, 2)) },
          }
        : {}),
      targets: {
        cpuRatio: ratios.length ? `${median(ratios) <= 0.4 ? 'met' : 'not met'}: median ${median(ratios)} (≤ 0.4)` : 'n/a',
        unloadedP99: unloaded.ours ? `${unloaded.ours.latencyMs.p99 <= 5 ? 'met' : 'not met'}: ${unloaded.ours.latencyMs.p99} ms (≤ 5)` : 'n/a',
        peakRss: bots.some((b) => b.name === 'ours')
          ? (() => {
              const peak = round(rssMb(bots.find((b) => b.name === 'ours')!.child.pid!, 'VmHWM'), 1);
              const limit = process.env.DATABASE_URL ? 120 : 200;
              return `${peak <= limit ? 'met' : 'not met'}: ${peak} MB (≤ ${limit} with ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'the embedded default'})`;
            })()
          : 'n/a',
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    for (const bot of bots) {
      bot.child.kill('SIGTERM');
      await new Promise((r) => (bot.child.exitCode !== null ? r(null) : bot.child.once('exit', r)));
      await bot.fake.close();
    }
    redis.child?.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed) {
    process.stderr.write('bench:webhook: some journeys did not complete or some webhooks did not answer 2xx\n');
    process.exit(1);
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
