/**
 * The message shown after a retry. It travels in the redirect's query string as a
 * count and an id, never as free text, so a crafted link can only ever show one of
 * these fixed sentences.
 */

const WHICH = /^(all|(op|fwd)-\d{1,15})$/;

export function retryFlash(count: number, which: string): string {
  return new URLSearchParams({ retried: String(count), which }).toString();
}

export function flashMessage(retried: string | undefined, which: string | undefined): string | undefined {
  if (retried === undefined || which === undefined || !/^\d{1,9}$/.test(retried) || !WHICH.test(which)) return undefined;
  const n = Number(retried);
  if (which === 'all') return n === 0 ? 'There were no dead letters to retry.' : `Queued ${n} dead letter${n === 1 ? '' : 's'} again.`;
  return n === 0 ? `${which} is not a dead letter (any more): nothing was queued.` : `Queued ${which} again.`;
}
