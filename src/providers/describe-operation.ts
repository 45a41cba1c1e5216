import { NO_ACCOUNT } from '../no-account';
import type { TagAction } from '../tag-operation';
import { providerNamed } from './index';

/*
 * How an operation reads for people — one wording for the admin pages, the CLI
 * history and dead-letter list, the playground and `autotag test`.
 */

type Described = Pick<TagAction, 'action' | 'provider' | 'kind' | 'tagId' | 'lifetime'> & { account?: string };

/** Whether the kind means anything for this provider (it has more than one). */
function showsKind(op: Pick<TagAction, 'provider'>): boolean {
  return providerNamed(op.provider).kinds.length > 1;
}

/**
 * `add mantago/personal tag tag-1`, `remove botbonnie tag tag-2`, `add mantago/personal tag tag-3 for 7d`,
 * and `… in brand-a` for an account other than the environment's (which is named after its provider).
 */
export function describeOperation(op: Described): string {
  const account = op.account === undefined || op.account === op.provider ? '' : op.account === NO_ACCOUNT ? ' (no account)' : ` in ${op.account}`;
  return `${op.action} ${op.provider}${showsKind(op) ? `/${op.kind}` : ''} tag ${op.tagId}${op.lifetime ? ` for ${op.lifetime.text}` : ''}${account}`;
}

/** One operation as `autotag test --json` and the playground print it: `kind` only where it means something. */
export interface PrintedOperation {
  action: TagAction['action'];
  provider: TagAction['provider'];
  kind?: TagAction['kind'];
  tagId: string;
  /** The lifetime as the rule wrote it (`for:`), on adds that have one. */
  for?: string;
  /** Only when the action names an account (`account:`). */
  account?: string;
}

export function printedOperation(op: Described): PrintedOperation {
  return {
    action: op.action,
    provider: op.provider,
    ...(showsKind(op) ? { kind: op.kind } : {}),
    tagId: op.tagId,
    ...(op.lifetime ? { for: op.lifetime.text } : {}),
    ...(op.account !== undefined ? { account: op.account } : {}),
  };
}
