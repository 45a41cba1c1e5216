/** A mutex per name, for this process: `run` calls with one name take turns, in call order. */
export interface NamedMutex {
  run<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export function createNamedMutex(): NamedMutex {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const result = previous.then(fn, fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return result;
    },
  };
}
