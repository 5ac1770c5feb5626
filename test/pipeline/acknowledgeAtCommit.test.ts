import { acknowledgeAtCommit } from '../../src/pipeline/acknowledgeAtCommit';

/** A promise with its resolve and reject at hand. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('acknowledgeAtCommit', () => {
  it('resolves at the commit while the delivery is still going on', async () => {
    const delivery = deferred();
    const late: unknown[] = [];
    const ack = acknowledgeAtCommit(
      async (committed) => {
        committed();
        await delivery.promise;
      },
      0,
      (err) => late.push(err),
    );
    await expect(ack).resolves.toBeUndefined();
    delivery.reject(new Error('platform down'));
    await new Promise((r) => setImmediate(r));
    expect(late).toEqual([new Error('platform down')]);
  });

  it('rejects when the work fails before the commit, so that the platform redelivers', async () => {
    await expect(acknowledgeAtCommit(() => Promise.reject(new Error('redis down')), 1000, () => undefined)).rejects.toThrow('redis down');
  });

  it('resolves when the work ends without a commit (a duplicate), and as soon as a held delivery ends', async () => {
    await expect(acknowledgeAtCommit(async () => undefined, 1000, () => undefined)).resolves.toBeUndefined();
    // Held up to a minute for the delivery: it ends at once, and so does the acknowledgement.
    await expect(acknowledgeAtCommit(async (committed) => committed(), 60_000, () => undefined)).resolves.toBeUndefined();
  });
});
