import { Redis } from 'ioredis';
import { createSession, type Session } from '../../src/engine/types';
import { MemorySessionStore } from '../../src/sessions/MemorySessionStore';
import { RedisSessionStore } from '../../src/sessions/RedisSessionStore';
import { DEFAULT_STORE_OPTIONS, LeaseLostError, LeaseTimeoutError, type SessionStore, type SessionStoreOptions } from '../../src/sessions/SessionStore';
import { testRedisUrl, uniquePrefix } from '../support/harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Factory = (options?: Partial<SessionStoreOptions>) => { store: SessionStore };

const redisClients: Redis[] = [];
afterAll(async () => {
  await Promise.all(redisClients.map((r) => r.quit()));
});

const factories: Array<[string, Factory]> = [
  ['memory', (o) => ({ store: new MemorySessionStore({ ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60, ...o }) })],
  [
    'redis',
    (o) => {
      return { store: new RedisSessionStore(new Redis(testRedisUrl()), uniquePrefix(), { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60, ...o }) };
    },
  ],
];

/** Work that appends the event's mark to the session's history, slowly, as a real handler would with I/O. */
function appendWork(mark: string, delayMs = 5) {
  return async (stored: Session | null) => {
    const session = stored ?? createSession(0);
    await sleep(delayMs);
    session.history = [...session.history, mark];
    return { session, value: mark };
  };
}

describe.each(factories)('SessionStore contract (%s)', (_name, make) => {
  const opened: SessionStore[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });
  const open: Factory = (o) => {
    const made = make(o);
    opened.push(made.store);
    return made;
  };

  it('gives work no session the first time, then the committed one', async () => {
    const { store } = open();
    const first = await store.runExclusive('web:a', 'e1', appendWork('1'));
    expect(first.status).toBe('committed');
    let seen: Session | null = null;
    await store.runExclusive('web:a', 'e2', async (s) => {
      seen = s;
      return { session: s!, value: null };
    });
    expect(seen!.history).toEqual(['1']);
    expect((await store.peek('web:a'))?.history).toEqual(['1']);
  });

  it('an event id delivered three times has one effect', async () => {
    const { store } = open();
    let runs = 0;
    const work = async (s: Session | null) => {
      runs++;
      return appendWork('x', 1)(s);
    };
    const results = await Promise.all([store.runExclusive('web:b', 'same', work), store.runExclusive('web:b', 'same', work)]);
    const third = await store.runExclusive('web:b', 'same', work);
    expect(runs).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual(['committed', 'duplicate']);
    expect(third.status).toBe('duplicate');
    expect((await store.peek('web:b'))?.history).toEqual(['x']);
  });

  it('never interleaves two events of one user: no update is lost under concurrency', async () => {
    const { store } = open();
    const marks = Array.from({ length: 20 }, (_, i) => String(i));
    await Promise.all(marks.map((m) => store.runExclusive('web:c', `e${m}`, appendWork(m, 3))));
    const history = (await store.peek('web:c'))!.history;
    expect(history).toHaveLength(20);
    expect([...history].sort()).toEqual([...marks].sort());
  });

  it('forgets a user\'s session on request, and only that user\'s', async () => {
    const { store } = open();
    await store.runExclusive('web:g1', 'e1', appendWork('1'));
    await store.runExclusive('web:g2', 'e1', appendWork('1'));
    await store.forget('web:g1');
    expect(await store.peek('web:g1')).toBeNull();
    expect((await store.peek('web:g2'))?.history).toEqual(['1']);
  });

  it('runs different users in parallel', async () => {
    const { store } = open();
    // Each user's work waits until every user's work has started: held one at a time, they would never all start.
    let started = 0;
    let allStarted!: () => void;
    const everyoneIn = new Promise<void>((resolve) => (allStarted = resolve));
    const overlapping = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.runExclusive(`web:p${i}`, 'e', async (stored) => {
          if (++started === 10) allStarted();
          const together = await Promise.race([everyoneIn.then(() => true), sleep(5000).then(() => false)]);
          return { session: stored ?? createSession(0), value: together };
        }),
      ),
    );
    expect(overlapping.map((r) => r.status === 'committed' && r.value)).toEqual(Array(10).fill(true));
  });

  it('writes nothing when the work fails, so a redelivery runs it again', async () => {
    const { store } = open();
    await store.runExclusive('web:d', 'e1', appendWork('1'));
    await expect(
      store.runExclusive('web:d', 'e2', async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
    expect((await store.peek('web:d'))?.history).toEqual(['1']);
    const retry = await store.runExclusive('web:d', 'e2', appendWork('2'));
    expect(retry.status).toBe('committed');
    expect((await store.peek('web:d'))?.history).toEqual(['1', '2']);
  });

  it('runs afterCommit inside the lease: the next event of the user waits for it', async () => {
    const { store } = open();
    const order: string[] = [];
    await Promise.all([
      store.runExclusive('web:e', 'e1', appendWork('1', 1), async () => {
        await sleep(30);
        order.push('sent 1');
      }),
      (async () => {
        await sleep(5);
        await store.runExclusive('web:e', 'e2', async (s) => {
          order.push('work 2');
          return appendWork('2', 1)(s);
        });
      })(),
    ]);
    expect(order).toEqual(['sent 1', 'work 2']);
  });

});

describe('RedisSessionStore across processes', () => {
  it('discards a session of an unknown shape version but keeps a recognisable profile', async () => {
    const raw = new Redis(testRedisUrl());
    redisClients.push(raw);
    const prefix = uniquePrefix();
    const store = new RedisSessionStore(new Redis(testRedisUrl()), prefix, { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60 });
    try {
      await raw.set(`${prefix}s:{web:f}`, JSON.stringify({ v: 0, profile: { locale: 'en', commune: 'coc-ly' }, flow: 'old', steps: [1, 2] }));
      const s = await store.peek('web:f');
      expect(s?.v).toBe(1);
      expect(s?.flow).toBeNull();
      expect(s?.profile).toEqual({ locale: 'en', commune: 'coc-ly' });
      await raw.set(`${prefix}s:{web:f}`, 'not json');
      expect(await store.peek('web:f')).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('two stores on separate connections (as two processes) never interleave one user', async () => {
    const prefix = uniquePrefix();
    const options = { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60 };
    const a = new RedisSessionStore(new Redis(testRedisUrl()), prefix, options);
    const b = new RedisSessionStore(new Redis(testRedisUrl()), prefix, options);
    try {
      const marks = Array.from({ length: 30 }, (_, i) => String(i));
      await Promise.all(marks.map((m, i) => (i % 2 ? a : b).runExclusive('tg:42', `u${m}`, appendWork(m, 2))));
      // Each mark delivered again to the other process: no second effect.
      await Promise.all(marks.map((m, i) => (i % 2 ? b : a).runExclusive('tg:42', `u${m}`, appendWork(`dup${m}`, 1))));
      const history = (await a.peek('tg:42'))!.history;
      expect(history).toHaveLength(30);
      expect([...history].sort()).toEqual([...marks].sort());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses to commit after its lease expired, and writes nothing', async () => {
    const prefix = uniquePrefix();
    const store = new RedisSessionStore(new Redis(testRedisUrl()), prefix, { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60, leaseMs: 50 });
    try {
      await expect(store.runExclusive('web:slow', 'e1', appendWork('late', 120))).rejects.toBeInstanceOf(LeaseLostError);
      expect(await store.peek('web:slow')).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('gives up waiting for a lease that another process holds too long', async () => {
    const prefix = uniquePrefix();
    const holder = new RedisSessionStore(new Redis(testRedisUrl()), prefix, { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60 });
    const waiter = new RedisSessionStore(new Redis(testRedisUrl()), prefix, { ...DEFAULT_STORE_OPTIONS, sessionTtlSeconds: 60, waitMs: 100 });
    try {
      const slow = holder.runExclusive('web:busy', 'e1', appendWork('1', 400));
      await sleep(20);
      await expect(waiter.runExclusive('web:busy', 'e2', appendWork('2'))).rejects.toBeInstanceOf(LeaseTimeoutError);
      await slow;
    } finally {
      await holder.close();
      await waiter.close();
    }
  });
});
