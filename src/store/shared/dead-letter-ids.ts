import type { DeadLetterCursor } from '../store-views';

/** `op-12` / `fwd-3`, as listed by `listDeadLetters`, split by table. */
export interface DeadLetterIds {
  operations: number[];
  forwards: number[];
}

/** A dead letter's id as `listDeadLetters` gives it (a row number: no leading zero, at most 16 digits). */
export const DEAD_LETTER_ID = /^(op|fwd)-([1-9][0-9]{0,15})$/;

export function parseDeadLetterIds(ids: string[]): DeadLetterIds {
  const out: DeadLetterIds = { operations: [], forwards: [] };
  for (const id of ids) {
    const m = DEAD_LETTER_ID.exec(id.trim());
    if (!m) throw new Error(`${JSON.stringify(id)} is not a dead-letter id (expected op-<number> or fwd-<number>)`);
    (m[1] === 'op' ? out.operations : out.forwards).push(Number(m[2]));
  }
  return out;
}

/** The parameters of DEAD_LETTERS: the limit, then the page before's last letter (or NULLs). */
export function deadLetterPageParams(limit: number, after: DeadLetterCursor | undefined): [number, number | null, string | null, number | null] {
  if (!after) return [limit, null, null, null];
  const { operations, forwards } = parseDeadLetterIds([after.id]);
  const n = after.type === 'operation' ? operations[0] : forwards[0];
  if (n === undefined) throw new Error(`dead-letter cursor ${JSON.stringify(after.id)} does not name a ${after.type}`);
  return [limit, after.at, after.type, n];
}
