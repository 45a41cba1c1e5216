import type { DeadLetterCursor } from '../store-views';

/** `op-12` / `fwd-3`, as listed by `listDeadLetters`, split by table. */
export interface DeadLetterIds {
  operations: number[];
  forwards: number[];
}

export function parseDeadLetterIds(ids: string[]): DeadLetterIds {
  const out: DeadLetterIds = { operations: [], forwards: [] };
  for (const id of ids) {
    const m = /^(op|fwd)-([1-9][0-9]{0,15})$/.exec(id.trim());
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
