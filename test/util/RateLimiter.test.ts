import { Redis } from 'ioredis';
import { zaloApiRate } from '../../src/channels/zalo/ZaloCoordination';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from '../../src/util/RateLimiter';
import { testRedisUrl, uniquePrefix } from '../support/harness';

describe('MemoryRateLimiter', () => {
  it('lets a burst through at once, then spaces sends by the interval', async () => {
    let now = 1_000;
    const limiter = new MemoryRateLimiter({ perSecond: 10, burst: 3 }, () => now);
    const waits = [];
    for (let i = 0; i < 6; i++) waits.push(await limiter.reserve());
    expect(waits).toEqual([0, 0, 0, 100, 200, 300]);
    now += 1_000;
    expect(await limiter.reserve()).toBe(0);
  });

  it('pushes every later slot back after a "retry after", burst or not', async () => {
    const now = 5_000;
    const single = new MemoryRateLimiter({ perSecond: 10, burst: 1 }, () => now);
    await single.penalize(3_000);
    expect(await single.reserve()).toBe(3_000);
    expect(await single.reserve()).toBe(3_100);
    const bursty = new MemoryRateLimiter({ perSecond: 10, burst: 5 }, () => now);
    await bursty.penalize(3_000);
    expect(await bursty.reserve()).toBe(3_000);
  });

  it('reserves several slots in one call, as the same number of calls in a row would', async () => {
    let now = 1_000;
    const many = new MemoryRateLimiter({ perSecond: 10, burst: 3 }, () => now);
    expect(await many.reserveMany(6)).toEqual([0, 0, 0, 100, 200, 300]);
    expect(await many.reserve()).toBe(400);
    expect(await many.reserveMany(0)).toEqual([]);
    now += 2_000;
    expect(await many.reserveMany(2)).toEqual([0, 0]);
  });

  it('refuses a reservation that would wait too long, and reserves nothing then', async () => {
    const now = 0;
    const limiter = new MemoryRateLimiter({ perSecond: 10, burst: 1 }, () => now);
    expect(await limiter.tryReserve(50)).toBe(0);
    expect(await limiter.tryReserve(50)).toBeNull();
    expect(await limiter.tryReserve(100)).toBe(100);
    expect(await limiter.reserve()).toBe(200);
  });
});

describe('RedisRateLimiter', () => {
  const redis = new Redis(testRedisUrl());
  afterAll(() => redis.quit());

  it('shares one rate between limiters on the same key (two processes)', async () => {
    const key = `${uniquePrefix()}rate:test`;
    // One message per 100 s: the second reservation, by either process, waits for almost all of it.
    const a: RateLimiter = new RedisRateLimiter(redis, key, { perSecond: 0.01, burst: 1 });
    const b: RateLimiter = new RedisRateLimiter(redis, key, { perSecond: 0.01, burst: 1 });
    expect(await a.reserve()).toBe(0);
    expect(await b.reserve()).toBeGreaterThan(90_000);
    expect(await a.reserve()).toBeGreaterThan(190_000);
  });

  it('reserves several consecutive slots in one call, shared with the other processes on the key', async () => {
    const key = `${uniquePrefix()}rate:test`;
    // One message per 100 s after a burst of 2: every slot's wait tells whose it is, to within Redis' clock moving.
    const [r1, r2] = [new Redis(testRedisUrl()), new Redis(testRedisUrl())];
    const a: RateLimiter = new RedisRateLimiter(r1, key, { perSecond: 0.01, burst: 2 });
    const b: RateLimiter = new RedisRateLimiter(r2, key, { perSecond: 0.01, burst: 2 });
    try {
      const first = await a.reserveMany(4);
      const second = await b.reserveMany(3);
      const third = await a.reserve();
      const slots = [...first, ...second, third].map((w) => Math.round(w / 100_000));
      // The burst of 2 at once, then one slot per 100 s, none taken twice, whichever process asked.
      expect(slots).toEqual([0, 0, 1, 2, 3, 4, 5, 6]);
      expect(await b.reserveMany(0)).toEqual([]);
      // A penalty still pushes back what comes after a reservation of several.
      await a.penalize(1_000_000);
      expect(Math.min(...(await b.reserveMany(2)))).toBeGreaterThan(900_000);
    } finally {
      await Promise.all([r1.quit(), r2.quit()]);
    }
  });

  it('keeps slots consecutive when two processes reserve several at the same time', async () => {
    const key = `${uniquePrefix()}rate:test`;
    const [r1, r2] = [new Redis(testRedisUrl()), new Redis(testRedisUrl())];
    const a = new RedisRateLimiter(r1, key, { perSecond: 0.01, burst: 1 });
    const b = new RedisRateLimiter(r2, key, { perSecond: 0.01, burst: 1 });
    try {
      const batches = await Promise.all([a.reserveMany(5), b.reserveMany(5), a.reserveMany(5), b.reserveMany(5)]);
      const slots = batches.map((waits) => waits.map((w) => Math.round(w / 100_000)));
      // Each call got 5 slots in a row; together the 20 slots are 0..19, each once.
      for (const s of slots) expect(s).toEqual([s[0]!, s[0]! + 1, s[0]! + 2, s[0]! + 3, s[0]! + 4]);
      expect(slots.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await Promise.all([r1.quit(), r2.quit()]);
    }
  });

  it('pushes every later slot back after a "retry after", beyond the burst', async () => {
    const limiter = new RedisRateLimiter(redis, `${uniquePrefix()}rate:test`, { perSecond: 1000, burst: 8 });
    await limiter.penalize(60_000);
    expect(await limiter.reserve()).toBeGreaterThan(59_000);
  });

  it('spaces the Zalo OA calls of two processes at the configured rate, and refuses a wait beyond the queue limit', async () => {
    const key = `${uniquePrefix()}rate:zalo-oa-api`;
    const shape = zaloApiRate(600); // one call per 100 ms, a burst of 5 more
    const [r1, r2] = [new Redis(testRedisUrl()), new Redis(testRedisUrl())];
    const a = new RedisRateLimiter(r1, key, shape);
    const b = new RedisRateLimiter(r2, key, shape);
    try {
      const waits: number[] = [];
      for (let i = 0; i < 10; i++) waits.push((await (i % 2 ? a : b).tryReserve(10_000))!);
      expect(waits.slice(0, 6).every((w) => w <= 20)).toBe(true);
      // Beyond the burst, each call waits about 100 ms more than the one before, whichever process makes it.
      for (let i = 6; i < 10; i++) expect(waits[i]! - waits[i - 1]!).toBeGreaterThan(30);
      expect(waits[9]).toBeGreaterThan(200);
      expect(await a.tryReserve(50)).toBeNull();
    } finally {
      await Promise.all([r1.quit(), r2.quit()]);
    }
  });
});
