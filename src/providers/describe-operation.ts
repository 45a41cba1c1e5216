import type { TagAction } from '../tag-operation';
import { providerNamed } from './index';

/*
 * How an operation reads for people — one wording for the admin pages, the CLI
 * history and dead-letter list, the playground and `autotag test`.
 */

type Described = Pick<TagAction, 'action' | 'provider' | 'kind' | 'tagId' | 'lifetime'>;

/** Whether the kind means anything for this provider (it has more than one). */
function showsKind(op: Pick<TagAction, 'provider'>): boolean {
  return providerNamed(op.provider).kinds.length > 1;
}

/** `add mantago/personal tag tag-1`, `remove botbonnie tag tag-2`, `add mantago/personal tag tag-3 for 7d`. */
export function describeOperation(op: Described): string {
  return `${op.action} ${op.provider}${showsKind(op) ? `/${op.kind}` : ''} tag ${op.tagId}${op.lifetime ? ` for ${op.lifetime.text}` : ''}`;
}

/** One operation as `autotag test --json` and the playground print it: `kind` only where it means something. */
export interface PrintedOperation {
  action: TagAction['action'];
  provider: TagAction['provider'];
  kind?: TagAction['kind'];
  tagId: string;
  /** The lifetime as the rule wrote it (`for:`), on adds that have one. */
  for?: string;
}

export function printedOperation(op: Described): PrintedOperation {
  return {
    action: op.action,
    provider: op.provider,
    ...(showsKind(op) ? { kind: op.kind } : {}),
    tagId: op.tagId,
    ...(op.lifetime ? { for: op.lifetime.text } : {}),
  };
}
