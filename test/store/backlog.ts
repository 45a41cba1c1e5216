import type { Store } from '../../src/store/store';
import { accepted, batch, tagOp } from './builders';

/** `count` pending operations of the account `mantago`, one user each (accepted 500 to a commit). */
export async function fillBacklog(store: Store, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const events = Array.from({ length: Math.min(500, count - i) }, (_, j) => accepted(`${prefix}-${i + j}`, [tagOp({ userId: `U${i + j}` })]));
    await store.accept(batch(1000, events));
  }
}

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)`, with the fields the plan tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, the root first. */
export const planNodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(planNodes)];

/** The plan `EXPLAIN (… FORMAT JSON)` answered. */
export const planOf = (rows: unknown[]): PlanNode => (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
