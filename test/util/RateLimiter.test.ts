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
