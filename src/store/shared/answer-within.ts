import { StoreUnavailableError } from '../store';

/**
 * `work`, or a StoreUnavailableError once `ms` have passed without its answer — for the
 * places that answer a person or a probe (`/readyz`, `/admin`), which should say "the store
 * does not answer" in seconds rather than wait for a silent database's query timeout. The
 * work itself goes on; only the wait for it ends.
 */
export async function answerWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`the store did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
