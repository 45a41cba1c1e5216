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
