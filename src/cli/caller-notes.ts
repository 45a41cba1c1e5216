import type { ProviderCallers } from '../config-types';
import { isoTime } from '../format-time';
import { plural } from '../plural';
import type { CallerHolder, CallerRole } from '../store/store';

/**
 * Who calls each provider account (README "Several instances"), written once for `autotag status`
 * and /admin from StoreStatus.callers.
 */

/** The caller roles worth a line: every one held, and — when one instance calls each account — those nobody holds. */
export function callerRolesShown(callers: readonly CallerRole[] | undefined, mode: ProviderCallers): CallerRole[] {
  // PROVIDER_CALLERS=every: every instance calls every account, so a role nobody holds keeps nothing waiting.
  return (callers ?? []).filter((c) => c.holder !== null || mode === 'one');
}

/** The heading of those lines. */
export function callersHeading(mode: ProviderCallers): string {
  return mode === 'one'
    ? 'caller of each provider account (PROVIDER_CALLERS=one: only the instance holding its role calls it)'
    : 'caller roles held (PROVIDER_CALLERS=every here: every instance so set calls every account)';
}

/** "instance 0c5e… (autotag web-1 pid 42, client 10.1.2.3, database pid 1234), its session held since …". */
export function holderText(h: CallerHolder): string {
  const where = [h.name, h.clientAddress === null ? undefined : `client ${h.clientAddress}`, `database pid ${h.backendPid}`].filter((x) => x).join(', ');
  const who = h.instance === null ? 'a database session that is no listed instance' : `instance ${h.instance}`;
  return `${who} (${where})${h.since === null ? '' : `, its session held since ${isoTime(h.since)}`}`;
}

/** What is said of a role nobody holds, after the account's name. */
export function unheldText(pending: number): string {
  return `no instance holds its caller role: ${pending === 1 ? 'its pending operation waits' : `its ${plural(pending, 'pending operation')} wait`} until one takes it`;
}

/** One line of `autotag status`. */
export function callerLine(c: CallerRole): string {
  if (c.holder === null) return `${c.account}: ${unheldText(c.pending)}`;
  return `${c.account}: called by ${holderText(c.holder)}${c.holder.thisInstance ? ' (this instance)' : ''}`;
}
