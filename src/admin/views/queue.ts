import type { RuleSet } from '../../rules';
import type { QueueCounts, StoreStatus } from '../../store/store';
import { html, type SafeHtml } from '../html';
import { formatAge, table } from './common';

export function rulesSummary(ruleSet: RuleSet | undefined): SafeHtml {
  if (!ruleSet) return html`<p class="error">No valid rule set is loaded: no event is tagged.</p>`;
  const enabled = ruleSet.rules.filter((r) => r.enabled).length;
  const disabled = ruleSet.rules.length - enabled;
  return html`<p id="rules-in-force">Rules in force: <strong>${ruleSet.rules.length}</strong> rule${ruleSet.rules.length === 1 ? '' : 's'}${
    disabled ? ` (${enabled} enabled, ${disabled} disabled)` : ''
  } from ${ruleSet.files.length} file${ruleSet.files.length === 1 ? '' : 's'}.</p>`;
}

export function queueSection(status: StoreStatus): SafeHtml {
  const row = (name: string, q: QueueCounts) => [
    name,
    q.pending,
    q.due,
    q.leased,
    q.dead ? html`<span class="dead">${q.dead}</span>` : 0,
    formatAge(q.oldestPendingAgeMs),
  ];
  return html`<section id="queue"><h2>Queue</h2>
${table(['', 'pending', 'due now', 'being sent', 'dead letters', 'oldest pending'], [row('tag operations', status.operations), row('forwards', status.forwards)], new Set([1, 2, 3, 4, 5]))}
</section>`;
}
