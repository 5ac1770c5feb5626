/*
 * Webhook benchmark of issue 8 (DESIGN.md, "Performance budget"). `npm run bench:webhook` builds, then starts the real
 * server (`dist/main.js`, as `npm start` does) with TELEGRAM_MODE=webhook, a private redis-server (or REDIS_URL),
 * PGlite in a temporary DATA_DIR and TELEGRAM_API_ROOT pointing at a fake Bot API on localhost, and drives simulated
 * citizens through /start → language → commune → announcements → main menu → a full health declaration → confirm →
 * the daily-update offer. Each user's updates go strictly one after another (as Telegram orders them per chat);
 * many users are in flight at once.
 *
 * Printed per scenario: updates per second, webhook latency p50/p95/p99/max, CPU ms of the server process per update
 * (utime + stime from /proc/<pid>/stat, read after every reply has reached the fake Bot API), peak RSS (VmHWM), the
 * journeys completed of expected (the confirmation with a record reference reached the chat, and the last reply
 * came) and the count of non-2xx answers.
 *
 * Environment: BENCH_SCENARIOS="50x1,1000x100" (users x in flight), BENCH_CPU_PROF=<dir> (server runs with
 * --cpu-prof), BENCH_SERVER_LOG=<file> (server stdout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FakeBotApi } from '../test/support/fakeBotApi';
import { textUpdate } from '../test/support/telegramUpdates';
import { freePort } from '../test/support/freePort';
import { BENCH_SECRET, BENCH_TOKEN, startBenchServer } from './benchServer';

const TOKEN = BENCH_TOKEN;
const SECRET = BENCH_SECRET;
const CLK_TCK = 100;

/** One citizen's journey, in the order they type. The declaration's answers follow test/records.test.ts. */
const JOURNEY = [
  '/start',
  '1', // Tiếng Việt
  'ban pho', // commune
  '1', // yes, announcements
  '1', // main menu → health declaration
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
const STEP_NAMES = ['start', 'language', 'commune', 'announcements', 'menu', 'forWhom', 'name', 'birthYear', 'sex', 'phone', 'sameCommune', 'village', 'symptoms', 'dangerSigns', 'travel', 'contact', 'chronic', 'mayCall', 'confirm', 'dailyOffer'];

async function startRedis(): Promise<{ url: string; child?: ChildProcess }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, child };
  }
  throw new Error('redis-server did not start (is it on the PATH? or set REDIS_URL)');
}

function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

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

async function main(): Promise<void> {
  const scenarios = (process.env.BENCH_SCENARIOS ?? '50x1,1000x100').split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const redis = await startRedis();
  const fake = await FakeBotApi.start(TOKEN);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webhook-'));
  const server = await startBenchServer(fake.url, redis.url, dataDir);
  const pid = server.child.pid!;
  let failed = false;
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idleRssMb = rssMb(pid, 'VmRSS');
    // Warm-up (JIT, connections, PGlite's caches); not reported.
    await phase(server.url, fake, 1_000_000, 100, 8);
    fake.calls.length = 0;
    const results: Record<string, unknown> = {};
    let firstChat = 2_000_000;
    for (const [users, inFlight] of scenarios) {
      const cpu0 = cpuMs(pid);
      const r = await phase(server.url, fake, firstChat, users, inFlight);
      const cpu1 = cpuMs(pid);
      firstChat += 1_000_000;
      const sorted = [...r.latencies].sort((a, b) => a - b);
      if (r.non2xx > 0 || r.journeysCompleted !== users) failed = true;
      results[`${users} users x ${inFlight} in flight`] = {
        updates: r.updates,
        updatesPerSecond: Math.round(r.updates / r.seconds),
        latencyMs: { p50: round(pct(sorted, 50)), p95: round(pct(sorted, 95)), p99: round(pct(sorted, 99)), max: round(sorted[sorted.length - 1]!) },
        cpuMsPerUpdate: round((cpu1 - cpu0) / r.updates, 3),
        peakRssMbSoFar: round(rssMb(pid, 'VmHWM'), 1),
        slowestStepsP95Ms: r.byStep
          .map((xs, i) => ({ step: `${i + 1}:${JOURNEY[i]!.startsWith('/') ? JOURNEY[i] : STEP_NAMES[i]}`, p95: round(pct([...xs].sort((a, b) => a - b), 95)) }))
          .sort((a, b) => b.p95 - a.p95)
          .slice(0, 3)
          .map((x) => `${x.step} ${x.p95}`),
        journeysCompleted: `${r.journeysCompleted}/${users}`,
        non2xx: r.non2xx,
        botApiCalls: fake.calls.length,
      };
      fake.calls.length = 0;
    }
    const report = {
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}`,
      date: new Date().toISOString(),
      journey: `${JOURNEY.length} updates per user`,
      idleRssMb: round(idleRssMb, 1),
      ...results,
      peakRssMb: round(rssMb(pid, 'VmHWM'), 1),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    await fake.close();
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
