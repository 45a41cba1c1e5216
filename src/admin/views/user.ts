import { causeSentence } from '../../cli/history-notes';
import { plural } from '../../plural';
import type { ExpiringTag, HistoryCall, UserHistory } from '../../store/store';
import { html, type SafeHtml } from '../html';
import { describeOperation, table, time, type ViewContext } from './common';
import { describeEvent, eventDate, matchedRules, operationsList } from './events';

function callOutcome(c: HistoryCall): SafeHtml {
  const cls = c.outcome === 'applied' ? 'applied' : c.outcome === 'dead' ? 'dead' : undefined;
  const cause = causeSentence(c);
  return html`<span${cls ? html` class="${cls}"` : ''}>${c.outcome}</span>${c.status !== undefined ? ` (${c.status})` : ''}${
    cause ? `: ${cause}` : c.error && c.outcome !== 'applied' ? `: ${c.error}` : ''
  }`;
}

/** The user's tags with a lifetime running: when each will be removed. */
function expiringTags(list: readonly ExpiringTag[]): SafeHtml | string {
  if (list.length === 0) return '';
  return html`<h3>Will expire</h3>${table(
    ['tag', 'removed at', 'rule'],
    list.map((x) => [describeOperation({ ...x.operation, action: 'add' }), time(x.expiresAt), x.rule ? html`<code>${x.rule}</code>` : '-']),
  )}`;
}

/** One timeline: each event with the rules it matched, and the tag calls that followed, oldest first. */
function timeline(h: UserHistory): SafeHtml {
  type Row = { at: number; order: number; cells: SafeHtml[] };
  const rows: Row[] = [
    ...h.events.map((e) => ({
      at: e.receivedAt,
      order: 0,
      cells: [
        time(e.receivedAt),
        html`${e.platform} event <code>${e.eventId}</code>${eventDate(e)} on channel <code>${e.channel}</code>: ${describeEvent(e)}`,
        html`matched ${matchedRules(e.matched)}<br>→ ${operationsList(e)}`,
      ],
    })),
    ...h.calls.map((c) => ({
      at: c.at,
      order: 1,
      // Entries with a cause were decided by the store, without a call.
      cells: [time(c.at), html`${c.cause ? 'no call' : 'tag call'}: ${describeOperation(c.operation)}`, callOutcome(c)],
    })),
  ];
  rows.sort((a, b) => a.at - b.at || a.order - b.order);
  return table(['when', 'what', 'rules / outcome'], rows.map((r) => r.cells));
}

/** Says that the lists are the latest only, when the store holds more. */
function leftOut(h: UserHistory): string {
  if (!h.truncated) return '';
  return ` Only the latest are shown: ${plural(h.total.events, 'event')}, ${plural(h.total.calls, 'tag call')} and ${plural(h.total.expiring, 'running lifetime')} in all.`;
}

export function userSection(ctx: ViewContext, userId: string | undefined, history: UserHistory | undefined): SafeHtml {
  let shown: SafeHtml | string = '';
  if (userId !== undefined && history) {
    shown =
      history.events.length === 0 && history.calls.length === 0 && history.expiring.length === 0
        ? html`<p id="user-result">No history for user <code>${userId}</code> (unknown, or older than the history's retention).</p>`
        : html`<div id="user-result"><p>History of <code>${userId}</code>: ${history.events.length} event${history.events.length === 1 ? '' : 's'}, ${history.calls.length} tag call${history.calls.length === 1 ? '' : 's'}.${leftOut(history)}</p>${timeline(history)}${expiringTags(history.expiring)}</div>`;
  }
  return html`<section id="user"><h2>User lookup</h2>
<form class="stack" method="get" action="${ctx.base}#user">
<label>User id (as the platform sent it: a LINE userId, a sender id, a phone number…)<input type="text" name="user" value="${userId ?? ''}" required></label>
<button type="submit" class="primary">Look up</button>
</form>
${shown}
</section>`;
}
