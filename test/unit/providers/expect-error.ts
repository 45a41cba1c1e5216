import { TagApiError } from '../../../src/providers/errors';

/** Awaits a promise that must reject with a TagApiError, and returns that error. */
export async function tagApiErrorOf(p: Promise<unknown>): Promise<TagApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TagApiError) return err;
    throw new Error(`expected a TagApiError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  throw new Error('expected a TagApiError, but the call succeeded');
}

/** Every text a TagApiError exposes (for "no secret anywhere" checks). */
export function allTextOf(err: TagApiError): string {
  return [err.message, err.reason, err.bodyExcerpt ?? '', err.code ?? '', JSON.stringify(err), String(err.stack)].join('\n');
}
