import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { tempDir, testRedisUrl, uniquePrefix, WebUser } from './support/harness';
import { spawnServer, stopAll, waitForListening } from './support/processes';

/** One person's conversation: start, language, commune, menu, contacts, change commune by words. */
const SCRIPT: Array<Record<string, unknown>> = [
  { type: 'start' },
  { type: 'text', text: '2' },
  { type: 'text', text: 'coc lau' },
  { type: 'text', text: 'so dien thoai' },
  { type: 'text', text: 'change commune' },
  { type: 'text', text: 'xyz' },
  { type: 'text', text: 'quay lai' },
  { type: 'choice', optionId: 'main:more' },
  { type: 'choice', optionId: 'more:commune' },
  { type: 'text', text: 'ta van chu' },
  { type: 'text', text: 'tieng viet' },
];

/** Processes of one deployment share the secret that signs the web chat's identity. */
const SHARED_SECRET = 'two-processes-share-this-secret-0123456789';

async function startProcess(prefix: string): Promise<{ child: ChildProcess; url: string; prefix: string }> {
  const child = spawnServer({ PORT: '0', REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, DATA_DIR: tempDir(), LOG_LEVEL: 'info', SERVER_SECRET: SHARED_SECRET });
  return { child, url: await waitForListening(child), prefix };
}

async function storedSession(redis: Redis, prefix: string, userId: string): Promise<Record<string, unknown>> {
  const json = await redis.get(`${prefix}s:{web:${userId}}`);
  const session = JSON.parse(json!) as Record<string, unknown>;
  delete session.updatedAt;
  return session;
}

describe('two server processes sharing one Redis', () => {
  const children: ChildProcess[] = [];
  const redis = new Redis(testRedisUrl());
  afterAll(async () => {
    await stopAll(children);
    await redis.quit();
  });

  it('leave a user exactly as one process would, with every event also redelivered to the other process at once', async () => {
    const single = await startProcess(uniquePrefix());
    const sharedPrefix = uniquePrefix();
    const a = await startProcess(sharedPrefix);
    const b = await startProcess(sharedPrefix);
    children.push(single.child, a.child, b.child);

    const alone = new WebUser(single.url);
    for (const event of SCRIPT) await alone.send(event);

    const viaA = new WebUser(a.url);
    const viaB = new WebUser(b.url);
    let handled = 0;
    let duplicates = 0;
    for (const [i, event] of SCRIPT.entries()) {
      const eventId = viaA.nextEventId();
      // Odd events go first to A, even ones to B; the other process gets the same event at the same moment.
      const [first, second] = i % 2 ? [viaA, viaB] : [viaB, viaA];
      // The identity is issued with the first event: that one reaches the second process just after.
      const results =
        i === 0
          ? [await viaA.post({ ...event, eventId }), await viaB.sameAs(viaA).post({ ...event, eventId })]
          : await Promise.all([first.post({ ...event, eventId }), second.post({ ...event, eventId })]);
      for (const r of results) {
        expect(r.status).toBe(200);
        if (r.json.duplicate) duplicates++;
        else handled++;
      }
    }
    expect(handled).toBe(SCRIPT.length);
    expect(duplicates).toBe(SCRIPT.length);

    const expected = await storedSession(redis, single.prefix, alone.userId);
    const actual = await storedSession(redis, sharedPrefix, viaA.userId);
    expect(actual).toEqual(expected);
    expect(actual.profile).toEqual({ locale: 'vi', commune: 'ta-van-chu' });
    expect(actual.flow).toBe('menu');
  }, 180_000);
});
