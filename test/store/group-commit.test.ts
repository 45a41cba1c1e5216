import { createGroupCommit } from '../../src/store/shared/group-commit';
import { deferred } from './builders';

describe('group commit', () => {
  it('writes calls made in the same tick in one commit, each caller getting its own result', async () => {
    const commits: number[][] = [];
    const gc = createGroupCommit<number, number>({
      maxBatch: 100,
      retryAlone: () => true,
      async commit(items) {
        commits.push(items);
        return items.map((i) => i * 10);
      },
    });
    expect(await Promise.all([1, 2, 3].map((i) => gc.submit(i)))).toEqual([10, 20, 30]);
    expect(commits).toEqual([[1, 2, 3]]);
  });

  it('gathers calls that arrive while a commit is in progress into the next one', async () => {
    const commits: number[][] = [];
    const release = deferred();
    const gc = createGroupCommit<number, number>({
      maxBatch: 100,
      retryAlone: () => true,
      async commit(items) {
        commits.push(items);
        if (commits.length === 1) await release.promise;
        return items;
      },
    });
    const first = gc.submit(1);
    await new Promise<void>((r) => setImmediate(r)); // the first commit has started
    const later = [gc.submit(2), gc.submit(3)];
    await new Promise<void>((r) => setImmediate(r));
    expect(commits).toEqual([[1]]);
    release.resolve();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(commits).toEqual([[1], [2, 3]]);
  });

  it('splits at maxBatch', async () => {
    const sizes: number[] = [];
    const gc = createGroupCommit<number, number>({
      maxBatch: 2,
      retryAlone: () => true,
      async commit(items) {
        sizes.push(items.length);
        return items;
      },
    });
    await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('retries a failed commit item by item so only the bad item fails', async () => {
    const gc = createGroupCommit<number, number>({
      maxBatch: 100,
      retryAlone: () => true,
      async commit(items) {
        if (items.includes(2)) throw new Error(`bad item among ${items.join(',')}`);
        return items;
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => gc.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every item at once when retrying alone would not help', async () => {
    let calls = 0;
    const gc = createGroupCommit<number, number>({
      maxBatch: 100,
      retryAlone: () => false,
      async commit() {
        calls++;
        throw new Error('database unreachable');
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => gc.submit(i)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
  });

  it('drains: resolves once every queued item is written', async () => {
    const written: number[] = [];
    const gc = createGroupCommit<number, void>({
      maxBatch: 100,
      retryAlone: () => true,
      async commit(items) {
        written.push(...items);
        return items.map(() => undefined);
      },
    });
    void gc.submit(1);
    void gc.submit(2);
    await gc.drain();
    expect(written).toEqual([1, 2]);
  });

  it('with gatherMs, calls made in separate turns within that time share one commit; without it, each turn commits alone', async () => {
    const run = async (gatherMs: number | undefined) => {
      const commits: number[][] = [];
      const gc = createGroupCommit<number, number>({
        maxBatch: 100,
        retryAlone: () => true,
        gatherMs,
        async commit(items) {
          commits.push(items);
          return items;
        },
      });
      const results: Promise<number>[] = [];
      for (let i = 1; i <= 3; i++) {
        results.push(gc.submit(i));
        await new Promise((r) => setImmediate(r)); // the next call ends a turn later, as calls to a tag API do
      }
      expect(await Promise.all(results)).toEqual([1, 2, 3]);
      return commits;
    };
    expect(await run(undefined)).toEqual([[1], [2], [3]]);
    // Three turns take microseconds, but a loaded machine once stretched them past 20 ms: a window they always fit in.
    expect(await run(500)).toEqual([[1, 2, 3]]);
  });
});
