import { NO_ACCOUNT } from '../../no-account';
import type { CallerHolder, CallerRole, StoreStatus } from '../store';
import { num, optNum, optStr } from '../shared/rows';
import { advisoryLockKey, GRANTED_ADVISORY_LOCKS } from './advisory-lock';
import type { Query } from './db';

/**
 * Who holds each provider account's caller role (caller-roles.ts): the session advisory lock on
 * (schema, `caller:<account>`), as pg_locks shows it. A lock shows only its key, a hash of that
 * text, so the keys are computed here for the accounts asked about. The holder's instance is the
 * instance whose own lock (`instance:<id>`, liveness.ts) the same session holds; one read of
 * pg_locks (GRANTED_ADVISORY_LOCKS) serves both joins, so they see the same moment.
 *
 * A session holds one instance's lock of its own, but for a moment a second one: its check
 * (liveness.ts SWEEP_GONE) takes the lock of each gone instance, transaction-scoped, and deletes
 * that instance's row in the same statement. Until it commits, the row is still there for this
 * read, with the deleting transaction in its xmax; so of the instances a session holds the lock
 * of, its own is the one no statement is deleting (xmax 0: a sweep never touches a live
 * instance's row, its WHERE fails first).
 *
 * $1 the key of a caller lock without the account, $2 the accounts, $3 the key of an instance lock without the id.
 */
const CALLER_HOLDERS = `
  WITH ${GRANTED_ADVISORY_LOCKS},
  held AS (
    SELECT a AS account, l.pid FROM unnest($2::text[]) AS a JOIN locks l ON l.key = hashtextextended($1 || a, 0)
  ),
  listed AS (
    SELECT DISTINCT ON (l.pid) i.id, i.started_at, l.pid FROM instances i JOIN locks l ON l.key = hashtextextended($3 || i.id, 0)
    WHERE l.pid IN (SELECT pid FROM held)
    ORDER BY l.pid, (i.xmax::text = '0') DESC, i.started_at DESC
  )
  SELECT h.account, h.pid, li.id AS instance, li.started_at, s.application_name, host(s.client_addr) AS client_addr
  FROM held h
  LEFT JOIN listed li ON li.pid = h.pid
  LEFT JOIN pg_stat_activity s ON s.pid = h.pid`;

/**
 * StoreStatus.callers: the accounts among `accounts` and those with operations whose role is
 * held, and those with pending operations whose role is not. `self`: the instance id of the
 * process reading, when it holds a session (its own roles are marked).
 */
export async function callerRolesPostgres(
  q: Query,
  o: { schema: string | undefined; accounts: readonly string[]; status: Pick<StoreStatus, 'accounts'>; self: string | undefined },
): Promise<CallerRole[]> {
  const pending = new Map(o.status.accounts.filter((a) => a.account !== NO_ACCOUNT).map((a) => [a.account, a.operations.pending]));
  const names = [...new Set([...o.accounts, ...pending.keys()])].sort();
  const { rows } = await q(CALLER_HOLDERS, [advisoryLockKey(o.schema, 'caller:'), names, advisoryLockKey(o.schema, 'instance:')]);
  const holders = new Map<string, CallerHolder>();
  for (const r of rows) {
    const instance = optStr(r.instance) ?? null;
    holders.set(String(r.account), {
      instance,
      since: optNum(r.started_at, 'started_at') ?? null,
      name: optStr(r.application_name) || null,
      clientAddress: optStr(r.client_addr) ?? null,
      backendPid: num(r.pid, 'pid'),
      ...(instance !== null && instance === o.self ? { thisInstance: true as const } : {}),
    });
  }
  return names
    .map((account) => ({ account, holder: holders.get(account) ?? null, pending: pending.get(account) ?? 0 }))
    .filter((c) => c.holder !== null || c.pending > 0);
}
