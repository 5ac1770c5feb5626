/**
 * Proof of scale-out and of surviving faults (`npm run test:faults`, run by .ci/run after `npm test`).
 *
 * Starts a private redis-server, a private PostgreSQL cluster, a fake Bot API, three server processes built from
 * dist/ and a round-robin proxy, then:
 *   1. scale-out: 500 users × 20 Telegram updates (onboarding, then a health declaration) through the proxy, with
 *      random redeliveries of the same update to another process (at once, or after the answer), and a broadcast
 *      to every subscriber;
 *   2. faults, each during a load of new users: Redis crashed and restarted; PostgreSQL crashed and restarted; one
 *      process SIGKILLed mid-broadcast; one process SIGKILLed mid-declaration.
 * After each: every acknowledged update has its effect exactly once (one declaration per user, with that user's
 * answers), replies are never doubled and keep their order, every broadcast recipient gets the message at most
 * once (exactly once unless it was in flight in the killed process), /readyz went red naming the dependency and
 * green again, and /metrics shows the outage. Every process started here is killed when the script ends or fails.
 *
 * Sizes: FAULTS_USERS (500), FAULTS_FAULT_USERS (80 per fault); FAULTS_SEED repeats a run, FAULTS_DEBUG=1 prints the
 * reference replies, FAULTS_TIMEOUT_MINUTES (12) bounds the whole run. Exit code 0 when every check holds.
 */
import path from 'node:path';
import pg from 'pg';
import { FakeBotApi } from '../support/fakeBotApi';
import { sampleOf as sample } from '../support/prometheusText';
import { cleanupAll, makeTempDir, onCleanup, PrivateCluster, PrivateRedis, ServerProcess, startProxy, waitUntil } from './cluster';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const TOKEN = '123456789:AAF1x-faults-test-token-abcdefghij';
const SECRET = 'faults_webhook_secret';
const ADMIN_TOKEN = 'faults-admin-token-0123456789';
const METRICS_TOKEN = 'faults-metrics-token-0123456789';
const DISTRICT_GROUP = -1002000009999;
const BROADCAST_CONCURRENCY = 8;
const USERS = Number(process.env.FAULTS_USERS ?? 500);
const FAULT_USERS = Number(process.env.FAULTS_FAULT_USERS ?? 80);
const PARALLEL_USERS = 50;
/** Bounds of one update's redelivery loop (as Telegram retries a webhook that fails): count and time. */
const MAX_ATTEMPTS = 400;
const MAX_UPDATE_MS = 180_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** A deterministic pseudo-random source, so that a failing run can be repeated (FAULTS_SEED). */
let seed = Number(process.env.FAULTS_SEED ?? Date.now() % 100_000);
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}

const FAMILY = ['Giàng', 'Lò', 'Sùng', 'Vàng', 'Hoàng', 'Nguyễn', 'Lù', 'Thào', 'Ly', 'Mã'];
const MIDDLE = ['Thị', 'Văn', 'Seo', 'Mí', 'A', 'Chá', 'Quang', 'Minh', 'Hồng', 'Xuân'];
const GIVEN = ['Mai', 'Páo', 'Dua', 'Sủ', 'Chứ', 'Lan', 'Dình', 'Cở', 'Tủa', 'Sính'];

/** One citizen of the load: a chat id, a name and a phone number unique to them. */
interface Citizen {
  chat: number;
  name: string;
  phone: string;
}

function citizen(n: number): Citizen {
  // Digits are not allowed in names: the index is spelled with three syllable lists (unique up to 1,000 per list set).
  const name = `${FAMILY[n % 10]} ${MIDDLE[Math.floor(n / 10) % 10]} ${GIVEN[Math.floor(n / 100) % 10]} ${FAMILY[Math.floor(n / 1000) % 10]}`;
  return { chat: 710_000_000 + n, name, phone: `09${String(n).padStart(8, '0')}` };
}

/** The 20 messages of one citizen: onboarding with announcements, then a full health declaration. */
function journey(c: Citizen): string[] {
  return [
    '/start',
    '1', // Tiếng Việt
    'ban pho', // commune
    '1', // announcements: yes
    'khai bao y te',
    '2', // tell the commune health station (1 is the national declaration's steps)
    '1', // for myself
    c.name,
    '1990',
    '1',
    c.phone,
    '1',
    'Thôn Na Lang',
    '7', // no symptoms
    '3',
    '3',
    '5',
    '1',
    '1', // confirm: the declaration is stored here
    'lien he',
  ];
}

let nextUpdateId = 900_000_000;
let nextMessageId = 1;
function textUpdate(chat: number, text: string) {
  const command = /^\/\w+/.exec(text);
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextMessageId++,
      from: { id: chat, is_bot: false, first_name: 'Người', last_name: 'Dân', language_code: 'vi' },
      chat: { id: chat, first_name: 'Người', last_name: 'Dân', type: 'private' },
      date: Math.floor(Date.now() / 1000),
      text,
      ...(command ? { entities: [{ offset: 0, length: command[0].length, type: 'bot_command' }] } : {}),
    },
  };
}

/** Counts of what the driver did. */
const stats = { acknowledged: 0, redeliveries: 0, failedAttempts: 0 };

class Check {
  readonly failures: string[] = [];
  that(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }
  throwIfFailed(phase: string): void {
    if (this.failures.length) throw new Error(`${phase}: ${this.failures.length} check(s) failed:\n  ${this.failures.slice(0, 20).join('\n  ')}`);
    log(`${phase}: every check holds`);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`seed ${seed}; ${USERS} users × 20 updates, then ${FAULT_USERS} users per fault`);
  const logDir = makeTempDir('cgb-faults-logs-');
  const redis = await PrivateRedis.start(makeTempDir('cgb-faults-redis-'));
  const cluster = await PrivateCluster.start();
  const bot = await FakeBotApi.start(TOKEN);
  onCleanup('fake Bot API', () => void bot.close());
  log(`redis :${redis.port}, PostgreSQL :${cluster.port}, fake Bot API ${bot.url}`);

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    DATABASE_URL: cluster.url,
    DATA_DIR: makeTempDir('cgb-faults-data-'),
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: bot.url,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_MODE: 'webhook',
    ADMIN_TOKEN,
    METRICS_TOKEN,
    OFFICIALS_TELEGRAM_CHAT_ID: String(DISTRICT_GROUP),
    TELEGRAM_BROADCAST_RATE: '200',
    BROADCAST_CONCURRENCY: String(BROADCAST_CONCURRENCY),
  };
  const servers: ServerProcess[] = [];
  // The first one migrates the empty database; the others find it migrated.
  servers.push(await ServerProcess.start(0, PROJECT_ROOT, env, logDir));
  servers.push(...(await Promise.all([1, 2].map((i) => ServerProcess.start(i, PROJECT_ROOT, env, logDir)))));
  const proxy = await startProxy(() => servers);
  const db = new pg.Pool({ connectionString: cluster.url, max: 4 });
  db.on('error', () => undefined);
  onCleanup('database pool', () => void db.end());
  log(`3 server processes behind ${proxy.url}`);

  try {
    const reference = await referenceReplies(proxy.url, bot);
    let population: Citizen[] = [];

    // 1. Scale-out.
    const crowd = Array.from({ length: USERS }, (_, i) => citizen(i + 1));
    const before = await scrapeAll(servers);
    await driveLoad(crowd, proxy.url, servers);
    population = population.concat(crowd);
    const check = new Check();
    await verifyJourneys(crowd, db, bot, reference, 'exact', check);
    await verifyNotices(crowd, db, bot, check);
    const after = await scrapeAll(servers);
    const handled = servers.map((s) => counterDelta(before[s.index]!, after[s.index]!, 'cgb_updates_total', { outcome: 'handled' }));
    check.that(handled.reduce((a, b) => a + b, 0) === crowd.length * 20, `updates handled across the processes: ${handled.join(' + ')} ≠ ${crowd.length * 20}`);
    check.that(handled.every((n) => n > 0), `every process handled updates (${handled.join(', ')})`);
    const duplicates = servers.map((s) => counterDelta(before[s.index]!, after[s.index]!, 'cgb_updates_total', { outcome: 'duplicate' })).reduce((a, b) => a + b, 0);
    // A redelivery answered 200 was a duplicate; a few more are retries that found the update already done.
    check.that(duplicates >= stats.redeliveries, `duplicates seen by the processes (${duplicates}) ≥ redeliveries answered 200 (${stats.redeliveries})`);
    const rss = after.map((text) => Math.round(sample(text, 'cgb_process_resident_memory_bytes') / 2 ** 20));
    const p99 = after.map((text) => Math.round(sample(text, 'cgb_nodejs_eventloop_lag_p99_seconds') * 1000));
    log(`scale-out: ${crowd.length * 20} updates handled (${handled.join(' / ')} per process), ${stats.redeliveries} redeliveries all ignored; RSS ${rss.join(' / ')} MB, event-loop lag p99 ${p99.join(' / ')} ms`);
    await broadcastToAll(proxy.url, bot, db, population, 'Thông báo số 1: tiêm chủng tại trạm y tế xã', check, null);
    const afterBroadcast = await scrapeAll(servers);
    const sent = servers.map((s) => counterDelta(after[s.index]!, afterBroadcast[s.index]!, 'cgb_broadcast_sends_total', { channel: 'telegram', status: 'sent' }));
    check.that(sent.reduce((a, b) => a + b, 0) === population.length + 1, `cgb_broadcast_sends_total{status="sent"} across the processes: ${sent.join(' + ')} ≠ ${population.length + 1}`);
    check.throwIfFailed('scale-out');

    // 2a. Redis crashes mid-load and comes back.
    const redisUsers = Array.from({ length: FAULT_USERS }, (_, i) => citizen(USERS + i + 1));
    await dependencyOutage('redis', redisUsers, proxy.url, servers, db, bot, reference, {
      down: () => redis.crash(),
      up: () => redis.up(),
    });
    population = population.concat(redisUsers);

    // 2b. PostgreSQL crashes mid-load and comes back.
    const pgUsers = Array.from({ length: FAULT_USERS }, (_, i) => citizen(USERS + FAULT_USERS + i + 1));
    await dependencyOutage('database', pgUsers, proxy.url, servers, db, bot, reference, {
      down: () => cluster.crash(),
      up: () => cluster.start(),
    });
    population = population.concat(pgUsers);

    // 2c. One process SIGKILLed mid-broadcast.
    {
      const c = new Check();
      const victim = servers[2]!;
      await broadcastToAll(proxy.url, bot, db, population, 'Thông báo số 2: phong tỏa thôn Na Lang', c, async () => {
        log(`SIGKILL server ${victim.index} mid-broadcast`);
        await victim.kill();
      });
      await victim.up(PROJECT_ROOT);
      c.throwIfFailed('process killed mid-broadcast');
    }

    // 2d. One process SIGKILLed mid-declaration.
    {
      const c = new Check();
      const users = Array.from({ length: FAULT_USERS }, (_, i) => citizen(USERS + 2 * FAULT_USERS + i + 1));
      const victim = servers[1]!;
      await driveLoad(users, proxy.url, servers, async () => {
        log(`SIGKILL server ${victim.index} mid-declaration`);
        await victim.kill();
      });
      await verifyJourneys(users, db, bot, reference, 'subsequence', c);
      await victim.up(PROJECT_ROOT);
      c.that(servers.every((s) => s.alive), 'all three processes run again');
      c.throwIfFailed('process killed mid-declaration');
    }

    log(`done in ${Math.round((Date.now() - started) / 1000)} s: ${stats.acknowledged} updates acknowledged, ${stats.redeliveries} redeliveries, ${stats.failedAttempts} attempts answered with an error and redelivered`);
    await Promise.all(servers.map((s) => s.stop()));
  } catch (err) {
    for (const s of servers) process.stderr.write(`--- server ${s.index} log (tail)\n${s.logTail()}\n`);
    process.stderr.write(`--- PostgreSQL log (tail)\n${cluster.logTail()}\n`);
    throw err;
  } finally {
    await proxy.close();
    await db.end().catch(() => undefined);
    await bot.close();
  }
}

/** Posts one update like Telegram does: to `url`; until it is answered 200 (bounded in count and time). */
async function deliverUntilAcknowledged(url: string, update: unknown): Promise<number> {
  const deadline = Date.now() + MAX_UPDATE_MS;
  let wait = 50;
  for (let attempt = 1; ; attempt++) {
    const { status, backend } = await post(url, update);
    if (status === 200) {
      stats.acknowledged++;
      return backend;
    }
    stats.failedAttempts++;
    if (attempt >= MAX_ATTEMPTS || Date.now() > deadline) throw new Error(`update ${(update as { update_id: number }).update_id} was never acknowledged (last answer ${status})`);
    await sleep(wait);
    wait = Math.min(wait * 2, 1000);
  }
}

async function post(url: string, update: unknown): Promise<{ status: number; backend: number }> {
  try {
    const res = await fetch(`${url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(60_000),
    });
    await res.arrayBuffer();
    return { status: res.status, backend: Number(res.headers.get('x-backend') ?? -1) };
  } catch {
    return { status: 0, backend: -1 };
  }
}

/**
 * Drives every citizen's journey, `PARALLEL_USERS` at a time, each citizen's updates one after the other (as
 * Telegram does per chat). About one update in four is also redelivered straight to another process: at the same
 * moment as the original, or after it was answered. `fault` runs once a quarter of the updates are acknowledged.
 */
async function driveLoad(citizens: Citizen[], proxyUrl: string, servers: ServerProcess[], fault?: () => Promise<void>): Promise<void> {
  const total = citizens.length * 20;
  let done = 0;
  let faultRun: Promise<void> | null = null;
  const queue = [...citizens];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      for (const text of journey(c)) {
        const update = textUpdate(c.chat, text);
        const roll = random();
        const other = () => {
          const alive = servers.filter((s) => s.alive);
          return alive[Math.floor(random() * alive.length)];
        };
        if (roll < 0.12) {
          // Delivered to two processes at once: one handles it, the other finds it done (or waits for the lease).
          const twin = other();
          stats.redeliveries += twin ? 1 : 0;
          await Promise.all([deliverUntilAcknowledged(proxyUrl, update), twin ? redeliver(twin, update) : Promise.resolve()]);
        } else {
          const backend = await deliverUntilAcknowledged(proxyUrl, update);
          if (roll < 0.25) {
            const alive = servers.filter((s) => s.alive && s.index !== backend);
            const target = alive[Math.floor(random() * alive.length)];
            if (target) {
              stats.redeliveries++;
              await redeliver(target, update);
            }
          }
        }
        done++;
        if (fault && !faultRun && done >= total / 4) faultRun = fault();
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_USERS }, worker));
  await faultRun;
}

/**
 * A redelivery straight to one process. It must be answered 200 (a duplicate); a process that cannot answer now
 * (its Redis is down, it was killed) makes the driver try the proxy instead, as Telegram would retry later.
 */
async function redeliver(target: ServerProcess, update: unknown): Promise<void> {
  const { status } = await post(target.url, update);
  if (status !== 200) stats.redeliveries--;
}

/** The replies one citizen gets on a quiet system, with their own name, phone and reference taken out. */
async function referenceReplies(proxyUrl: string, bot: FakeBotApi): Promise<string[]> {
  const c = citizen(0);
  for (const text of journey(c)) await deliverUntilAcknowledged(proxyUrl, textUpdate(c.chat, text));
  await sleep(500);
  const replies = repliesTo(bot, c);
  if (replies.length < 20) throw new Error(`the reference journey got only ${replies.length} replies; the flows may have changed: ${replies.join(' | ')}`);
  const record = replies.find((r) => r.includes('REF'));
  if (process.env.FAULTS_DEBUG) log(`reference replies:\n${replies.join("\n---\n")}`);
  if (!record) throw new Error(`the reference journey did not end with a stored declaration: ${replies.slice(-4).join(' | ')}`);
  return replies;
}

function repliesTo(bot: FakeBotApi, c: Citizen): string[] {
  return bot
    .callsOf('sendMessage', c.chat)
    .map((call) => String(call.payload.text))
    .filter((t) => !t.includes('Thông báo số'))
    // "Sent to the commune's officials" is told when the notice went out: its place among the replies depends on when
    // the dispatcher sent the notice, not on the conversation (each notice reaching the group once is checked apart).
    .filter((t) => !t.includes('Trạm y tế đã được báo'))
    // Phones are shown as people write them (0912 345 678).
    .map((t) => t.split(c.name).join('NAME').split(`+84${c.phone.slice(1)}`).join('PHONE').split(`${c.phone.slice(0, 4)} ${c.phone.slice(4, 7)} ${c.phone.slice(7)}`).join('PHONE').replace(/\b[A-Z]{2}-\d{6}-\d+\b/g, 'REF'));
}

/** True when `part` is `whole` with some items left out (none added, none doubled, order kept). */
function isSubsequence(part: string[], whole: string[]): boolean {
  let i = 0;
  for (const item of whole) if (i < part.length && part[i] === item) i++;
  return i === part.length;
}

/**
 * One stored declaration per citizen, holding their own name and phone (answers out of order would be refused or
 * stored under the wrong question), and their replies: exactly the reference ones, or (after a process was
 * killed between a commit and its replies) the reference ones with some left out, never one doubled or moved.
 */
async function verifyJourneys(citizens: Citizen[], db: pg.Pool, bot: FakeBotApi, reference: string[], replies: 'exact' | 'subsequence', check: Check): Promise<void> {
  const rows = (
    await db.query<{ user_id: string; n: number; data: Record<string, unknown> }>(
      `SELECT user_id, count(*)::int AS n, (array_agg(data))[1] AS data FROM records WHERE channel = 'telegram' AND user_id = ANY($1) GROUP BY user_id`,
      [citizens.map((c) => String(c.chat))],
    )
  ).rows;
  const byUser = new Map(rows.map((r) => [r.user_id, r]));
  for (const c of citizens) {
    const row = byUser.get(String(c.chat));
    check.that(row?.n === 1, `chat ${c.chat}: ${row?.n ?? 0} declarations stored, expected 1`);
    const data = JSON.stringify(row?.data ?? {});
    check.that(data.includes(c.name) && data.includes(c.phone.slice(1)), `chat ${c.chat}: the declaration holds this citizen's name and phone (${data.slice(0, 200)})`);
  }
  // Replies go out after the commit, while the chat's lease is held; the last ones may still be on their way.
  if (replies === 'exact') {
    await waitUntil('every reply to reach the Bot API', () => citizens.every((c) => repliesTo(bot, c).length >= reference.length), 60_000, 200).catch(() => undefined);
  } else {
    await sleep(2000);
  }
  for (const c of citizens) {
    const got = repliesTo(bot, c);
    if (replies === 'exact') check.that(JSON.stringify(got) === JSON.stringify(reference), `chat ${c.chat}: replies differ from the reference (${got.length} vs ${reference.length}): ${firstDifference(got, reference)}`);
    else check.that(isSubsequence(got, reference), `chat ${c.chat}: replies doubled or out of order: ${firstDifference(got, reference)}`);
  }
}

function firstDifference(got: string[], want: string[]): string {
  const i = got.findIndex((g, k) => g !== want[k]);
  const at = i < 0 ? Math.min(got.length, want.length) : i;
  return `#${at}: got "${(got[at] ?? '(nothing)').slice(0, 80)}", expected "${(want[at] ?? '(nothing)').slice(0, 80)}"`;
}

/** Every declaration's notice reached the officials exactly once (alone or in a digest), across the three dispatchers. */
async function verifyNotices(citizens: Citizen[], db: pg.Pool, bot: FakeBotApi, check: Check): Promise<void> {
  await waitUntil('the notices queue to drain', async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notices WHERE sent_at IS NULL AND gave_up_at IS NULL')).rows[0]!.n === 0, 120_000, 500);
  const refs = (await db.query<{ reference: string }>(`SELECT reference FROM records WHERE user_id = ANY($1)`, [citizens.map((c) => String(c.chat))])).rows.map((r) => r.reference);
  const citizenChats = new Set(citizens.map((c) => String(c.chat)));
  const counts = new Map<string, number>();
  for (const call of bot.callsOf('sendMessage')) {
    if (citizenChats.has(String(call.payload.chat_id))) continue;
    // One notice each, or, beyond a commune's notices per minute, one line in a digest that lists several.
    for (const ref of new Set(String(call.payload.text).match(/\b[A-Z]{2}-\d{6}-\d+\b/g) ?? [])) counts.set(ref, (counts.get(ref) ?? 0) + 1);
  }
  for (const ref of refs) check.that(counts.get(ref) === 1, `notice of ${ref} sent ${counts.get(ref) ?? 0} times to the officials, expected once`);
}

/**
 * Sends an announcement to every commune through the broadcast API and waits until nothing is left to send. Each
 * subscriber gets it exactly once; when `fault` kills a process mid-way, the deliveries that process had in flight
 * are never sent twice: a recipient without the message is one of those (still `sending`, or `unknown`).
 */
async function broadcastToAll(proxyUrl: string, bot: FakeBotApi, db: pg.Pool, population: Citizen[], text: string, check: Check, fault: (() => Promise<void>) | null): Promise<void> {
  const got = (c: Citizen) => bot.callsOf('sendMessage', c.chat).filter((call) => String(call.payload.text).includes(text)).length;
  const res = await fetch(`${proxyUrl}/api/broadcasts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ text: { vi: text }, communes: 'all', requestedBy: 'faults' }),
  });
  if (res.status !== 201) throw new Error(`POST /api/broadcasts answered ${res.status}: ${await res.text()}`);
  const { id, total } = (await res.json()) as { id: number; total: number };
  check.that(total === population.length + 1, `broadcast ${id} has ${total} recipients, expected ${population.length + 1} (every citizen, the reference one included)`);
  const left = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE broadcast_id = $1 AND status = 'pending'`, [id])).rows[0]!.n;
  if (fault) {
    await waitUntil('the broadcast to be under way', () => population.filter((c) => got(c) > 0).length >= Math.min(population.length / 5, 20), 120_000, 20);
    await fault();
    const pendingAtKill = await left();
    check.that(pendingAtKill > 0, `the fault came mid-broadcast (${pendingAtKill} deliveries still pending after it)`);
  }
  await waitUntil(`broadcast ${id} to be sent`, async () => (await left()) === 0, 180_000, 250);
  await sleep(1000);
  const statuses = new Map(
    (await db.query<{ user_id: string; status: string }>(`SELECT user_id, status FROM deliveries WHERE broadcast_id = $1`, [id])).rows.map((r) => [r.user_id, r.status]),
  );
  let missing = 0;
  for (const c of population) {
    const n = got(c);
    check.that(n <= 1, `chat ${c.chat} got broadcast ${id} ${n} times`);
    if (n === 0) {
      missing++;
      const status = statuses.get(String(c.chat));
      check.that(fault !== null && (status === 'sending' || status === 'unknown'), `chat ${c.chat} did not get broadcast ${id} (delivery ${status})`);
    }
  }
  if (fault) check.that(missing <= BROADCAST_CONCURRENCY, `${missing} deliveries lost with the killed process, at most its ${BROADCAST_CONCURRENCY} in flight`);
  log(`broadcast ${id}: ${population.length - missing} of ${population.length} delivered once${missing ? `, ${missing} in flight in the killed process (never resent)` : ''}`);
}

/**
 * A dependency crashes while a load of new citizens runs, stays down until every process's /readyz names it, then
 * comes back; the processes recover by themselves (no restart), /readyz is green again on all three, /metrics
 * counted the outage, and every acknowledged update had its effect exactly once.
 */
async function dependencyOutage(
  dependency: 'redis' | 'database',
  citizens: Citizen[],
  proxyUrl: string,
  servers: ServerProcess[],
  db: pg.Pool,
  bot: FakeBotApi,
  reference: string[],
  control: { down: () => Promise<void>; up: () => Promise<void> },
): Promise<void> {
  const check = new Check();
  let sawRed = 0;
  let metricsDown = 0;
  await driveLoad(citizens, proxyUrl, servers, async () => {
    log(`${dependency}: crash`);
    await control.down();
    // Red: each process names the dependency; the scrape during the outage shows it down.
    await waitUntil(`every /readyz to name ${dependency}`, async () => {
      const answers = await Promise.all(servers.map((s) => readiness(s)));
      sawRed = answers.filter((a) => a.status === 503 && a.down.includes(dependency)).length;
      return sawRed === servers.length;
    }, 60_000, 200).catch(() => undefined);
    const during = await scrape(servers[0]!);
    metricsDown = during.includes(`cgb_dependency_up{dependency="${dependency}"} 0`) ? 1 : 0;
    if (!metricsDown) log(`scrape during the outage: ${during.split('\n').filter((l) => l.startsWith('cgb_dependency')).join(' | ') || '(no answer)'}`);
    await sleep(1500);
    log(`${dependency}: restart`);
    await control.up();
  });
  check.that(sawRed === servers.length, `/readyz named ${dependency} as down on ${sawRed} of ${servers.length} processes`);
  check.that(metricsDown === 1, `/metrics showed cgb_dependency_up{dependency="${dependency}"} 0 during the outage`);
  // Green again, by themselves.
  await waitUntil('every /readyz to be green again', async () => (await Promise.all(servers.map((s) => readiness(s)))).every((a) => a.status === 200), 60_000, 250).catch(() => undefined);
  const answers = await Promise.all(servers.map((s) => readiness(s)));
  check.that(answers.every((a) => a.status === 200), `/readyz after recovery: ${answers.map((a) => a.status).join(', ')}`);
  for (const s of servers) {
    const text = await scrape(s);
    check.that(sample(text, 'cgb_dependency_outages_total', { dependency }) >= 1, `server ${s.index}: /metrics counted the ${dependency} outage`);
    check.that(sample(text, 'cgb_dependency_up', { dependency }) === 1, `server ${s.index}: /metrics shows ${dependency} up again`);
  }
  await verifyJourneys(citizens, db, bot, reference, 'subsequence', check);
  check.throwIfFailed(`${dependency} crashed and restarted`);
}

async function readiness(s: ServerProcess): Promise<{ status: number; down: string[] }> {
  try {
    const res = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { down?: string[] };
    return { status: res.status, down: body.down ?? [] };
  } catch {
    return { status: 0, down: [] };
  }
}

async function scrape(s: ServerProcess): Promise<string> {
  const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(10_000) }).catch(() => null);
  return res && res.status === 200 ? res.text() : '';
}

async function scrapeAll(servers: ServerProcess[]): Promise<string[]> {
  return Promise.all(servers.map((s) => scrape(s)));
}

function counterDelta(before: string, after: string, name: string, labels: Record<string, string>): number {
  return sample(after, name, labels) - sample(before, name, labels);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanupAll();
    process.exit(130);
  });
}
process.on('exit', cleanupAll);

// Whatever happens, the whole run is bounded: a hang ends in a failure, and the exit handler kills every child.
const overall = setTimeout(() => {
  process.stderr.write(`faults: the run took longer than ${Number(process.env.FAULTS_TIMEOUT_MINUTES ?? 12)} minutes; stopping\n`);
  process.exit(1);
}, Number(process.env.FAULTS_TIMEOUT_MINUTES ?? 12) * 60_000);
overall.unref();

main().then(
  () => {
    cleanupAll();
    process.exit(0);
  },
  (err: Error) => {
    process.stderr.write(`faults: FAILED: ${err.message}\n`);
    cleanupAll();
    process.exit(1);
  },
);
