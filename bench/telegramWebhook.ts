/*
 * Telegram webhook benchmark (DESIGN.md, "Performance budget"): the real server as its own process, with Redis, a
 * fake Bot API on localhost receiving the replies. Prints the server's CPU per update, webhook latency unloaded and
 * under load, and peak RSS. Usage: `npm run bench:telegram` (needs redis-server on the PATH, or REDIS_URL).
 *
 * CPU is read from /proc/<pid>/stat (utime + stime) before and after a phase, once every reply has reached the fake
 * Bot API, so it covers verify, parse, de-duplicate, lease, session load and save, engine, render and the send calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeBotApi } from '../test/support/fakeBotApi';
import { callbackUpdate, textUpdate } from '../test/support/telegramUpdates';
import { cpuMs, peakRssMb, percentile as pct, startRedis } from './benchProcess';
import { BENCH_SECRET, BENCH_TOKEN, startBenchServer } from './benchServer';

const TOKEN = BENCH_TOKEN;
const SECRET = BENCH_SECRET;
const ROOT = path.resolve(__dirname, '..');

/** One citizen's session: onboarding, the menu, contacts, a tap, back to the menu. */
function conversation(chat: number): unknown[] {
  return [textUpdate(chat, '/start'), textUpdate(chat, '1'), textUpdate(chat, 'ban pho'), textUpdate(chat, '1'), callbackUpdate(chat, 'main:commune'), textUpdate(chat, 'quay lai'), textUpdate(chat, '/menu'), textUpdate(chat, '2')];
}

async function post(url: string, update: unknown): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/webhooks/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Runs the conversations of `chats` users, `concurrency` users at a time (each user's updates in order). */
async function phase(url: string, fake: FakeBotApi, firstChat: number, chats: number, concurrency: number): Promise<{ updates: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  let updates = 0;
  const sendsBefore = fake.calls.length;
  const worker = async () => {
    while (next < chats) {
      const chat = firstChat + next++;
      for (const u of conversation(chat)) {
        latencies.push(await post(url, u));
        updates++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Replies are sent after the webhook answered: wait until the fake Bot API stops receiving them.
  let last = -1;
  while (fake.calls.length !== last) {
    last = fake.calls.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (fake.calls.length - sendsBefore < updates) throw new Error('fewer replies than updates');
  return { updates, latencies };
}

/** The same conversations on the web chat: the pipeline and engine without any Telegram work, for comparison. */
async function webPhase(url: string, firstUser: number, users: number, concurrency: number): Promise<number> {
  let updates = 0;
  let next = 0;
  const events = [{ type: 'start' }, { type: 'text', text: '1' }, { type: 'text', text: 'ban pho' }, { type: 'text', text: '1' }, { type: 'choice', optionId: 'main:commune' }, { type: 'text', text: 'quay lai' }, { type: 'text', text: '/menu' }, { type: 'text', text: '2' }];
  const worker = async () => {
    while (next < users) {
      const i = next++;
      // The server issues the chat's identity in a cookie with the first answer; a browser sends it back.
      let cookie = '';
      for (const [n, e] of events.entries()) {
        const res = await fetch(`${url}/api/web/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
          body: JSON.stringify({ ...e, eventId: `ev${firstUser + i}x${n}` }),
        });
        cookie = res.headers.get('set-cookie')?.split(';')[0] ?? cookie;
        await res.arrayBuffer();
        updates++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return updates;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const fake = await FakeBotApi.start(TOKEN);
  const server = await startBenchServer(fake.url, redis.url, fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')));
  const pid = server.child.pid!;
  try {
    if (process.env.BENCH_ONLY === 'web') {
      await webPhase(server.url, 9_000_000, 3000, 100);
      return;
    }
    if (process.env.BENCH_ONLY === 'telegram') {
      await phase(server.url, fake, 9_000_000, 3000, 100);
      return;
    }
    await phase(server.url, fake, 1_000_000, 200, 8); // warm-up (JIT, connections)
    fake.calls.length = 0;

    const cpu0 = cpuMs(pid);
    const serial = await phase(server.url, fake, 2_000_000, 150, 1);
    const cpu1 = cpuMs(pid);
    fake.calls.length = 0;
    const loaded = await phase(server.url, fake, 3_000_000, 1000, 100);
    const cpu2 = cpuMs(pid);

    const calls = fake.calls.length;
    const cpu3 = cpuMs(pid);
    const webSerial = await webPhase(server.url, 4_000_000, 150, 1);
    const cpu4 = cpuMs(pid);
    const webLoaded = await webPhase(server.url, 5_000_000, 1000, 100);
    const cpu5 = cpuMs(pid);

    const report = {
      botApiCallsPerUpdate: +(calls / loaded.updates).toFixed(2),
      webChatSameConversations: {
        unloadedCpuMsPerUpdate: +((cpu4 - cpu3) / webSerial).toFixed(3),
        loadedCpuMsPerUpdate: +((cpu5 - cpu4) / webLoaded).toFixed(3),
      },
      unloaded: { updates: serial.updates, cpuMsPerUpdate: +((cpu1 - cpu0) / serial.updates).toFixed(3), p50Ms: +pct(serial.latencies, 50).toFixed(2), p99Ms: +pct(serial.latencies, 99).toFixed(2) },
      loaded: { users: 1000, inFlight: 100, updates: loaded.updates, cpuMsPerUpdate: +((cpu2 - cpu1) / loaded.updates).toFixed(3), p50Ms: +pct(loaded.latencies, 50).toFixed(2), p99Ms: +pct(loaded.latencies, 99).toFixed(2) },
      peakRssMb: +peakRssMb(pid).toFixed(1),
      server: fs.existsSync(path.join(ROOT, 'dist', 'main.js')) ? 'dist/main.js' : 'src/main.ts through tsx (run `npm run build` first for figures without tsx)',
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
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
