import { sleep } from '../../src/util/sleep';

describe('sleep', () => {
  it('ends at once when its signal aborts (a shutdown does not wait out a back-off)', async () => {
    const stop = new AbortController();
    const waiting = sleep(3_600_000, stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});
