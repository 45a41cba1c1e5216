import { pausedAccount, runningLifetimes } from '../../cli/history-notes';
import type { RuleSet } from '../../rules';
import { callerRolesShown, callersHeading, holderText, unheldText } from '../../cli/caller-notes';
import type { ProviderCallers } from '../../config-types';
import type { CallerRole, QueueCounts, StoreStatus } from '../../store/store';
import { html, type SafeHtml } from '../html';
import { NO_ACCOUNT } from '../../tag-operation';
import { formatAge, table } from './common';

export function rulesSummary(ruleSet: RuleSet | undefined): SafeHtml {
  if (!ruleSet) return html`<p class="error">No valid rule set is loaded: no event is tagged.</p>`;
  const enabled = ruleSet.rules.filter((r) => r.enabled).length;
  const disabled = ruleSet.rules.length - enabled;
  return html`<p id="rules-in-force">Rules in force: <strong>${ruleSet.rules.length}</strong> rule${ruleSet.rules.length === 1 ? '' : 's'}${
    disabled ? ` (${enabled} enabled, ${disabled} disabled)` : ''
  } from ${ruleSet.files.length} file${ruleSet.files.length === 1 ? '' : 's'}.</p>`;
}

const HEADER = ['pending', 'due now', 'being sent', 'dead letters', 'oldest pending'];
const NUMERIC = new Set([1, 2, 3, 4, 5]);

function counts(q: QueueCounts): (number | string | SafeHtml)[] {
  return [q.pending, q.due, q.leased, q.dead ? html`<span class="dead">${q.dead}</span>` : 0, formatAge(q.oldestPendingAgeMs)];
}

/** Who calls each provider account (PostgreSQL; nothing with SQLite, where this one process makes every call). */
function callersList(status: StoreStatus, mode: ProviderCallers): SafeHtml | '' {
  const callers = callerRolesShown(status.callers, mode);
  if (callers.length === 0) return '';
  const item = (c: CallerRole) =>
    c.holder === null
      ? html`<li><code>${c.account}</code>: <span class="dead">${unheldText(c.pending)}</span></li>`
      : html`<li><code>${c.account}</code>: called by ${holderText(c.holder)}${c.holder.thisInstance ? html` — <strong>this instance</strong>` : ''}</li>`;
  return html`<h3>Caller of each provider account</h3>
<p class="muted">${callersHeading(mode)}.</p>
<ul id="callers">${callers.map(item)}</ul>`;
}

/** `mode`: this instance's PROVIDER_CALLERS. */
export function queueSection(status: StoreStatus, mode: ProviderCallers = 'one'): SafeHtml {
  const byChannel = status.channels.length
    ? html`<h3>Tag operations by channel</h3>
${table(['channel', ...HEADER], status.channels.map((c) => [html`<code>${c.channel}</code>`, ...counts(c.operations)]), NUMERIC)}`
    : '';
  const byAccount = status.accounts.length
    ? html`<h3>Tag operations by account</h3>
${table(
  ['account', ...HEADER],
  status.accounts.map((a) => [a.account === NO_ACCOUNT ? html`<span class="dead">none</span> (${a.provider})` : html`<code>${a.account}</code> (${a.provider})`, ...counts(a.operations)]),
  NUMERIC,
)}`
    : '';
  const l = status.lifetimes;
  const lifetimes = l.running > 0 && l.nextEndAt !== null ? html`<p id="lifetimes-running">${runningLifetimes(l.running, l.nextEndAt)}.</p>` : '';
  const pauses = status.pauses.length ? html`<ul id="paused-accounts">${status.pauses.map((p) => html`<li>${pausedAccount(p.account, p.until)}.</li>`)}</ul>` : '';
  return html`<section id="queue"><h2>Queue</h2>
${table(['', ...HEADER], [['tag operations', ...counts(status.operations)], ['forwards', ...counts(status.forwards)]], NUMERIC)}
${lifetimes}
${pauses}
${byChannel}
${byAccount}
${callersList(status, mode)}
</section>`;
}
