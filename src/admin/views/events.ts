import { datedApart } from '../../cli/history-notes';
import type { HistoryEvent } from '../../store/store';
import { html, type SafeHtml } from '../html';
import { describeOperation, table, time, userLink, type ViewContext } from './common';

/** The event as a short line: its kind (or platform type), text and postback data when known. */
export function describeEvent(e: HistoryEvent): SafeHtml {
  return html`${e.kind === 'other' ? e.type : e.kind}${e.text !== undefined ? html` <q>${e.text}</q>` : ''}${
    e.postbackData !== undefined ? html` <span class="muted">data=</span><code>${e.postbackData}</code>` : ''
  }`;
}

/** ", dated …" when the platform's time of the event is a second or more from its receipt (see datedApart). */
export function eventDate(e: HistoryEvent): SafeHtml {
  const dated = datedApart(e);
  return dated === undefined ? html`` : html`, dated ${time(dated)}`;
}

export function matchedRules(ids: readonly string[]): SafeHtml {
  return ids.length ? html`${ids.map((id, i) => html`${i ? ', ' : ''}<code>${id}</code>`)}` : html`<span class="muted">none</span>`;
}

export function operationsList(e: HistoryEvent): SafeHtml {
  return e.operations.length ? html`${e.operations.map((o, i) => html`${i ? html`<br>` : ''}${describeOperation(o)}`)}` : html`<span class="muted">none</span>`;
}

export function recentEventsSection(ctx: ViewContext, events: readonly HistoryEvent[]): SafeHtml {
  const body = events.length
    ? table(
        ['received', 'channel', 'platform', 'user', 'event', 'matched rules', 'tag operations'],
        events.map((e) => [time(e.receivedAt), html`<code>${e.channel}</code>`, e.platform, userLink(ctx, e.userId), html`${describeEvent(e)}${eventDate(e)}`, matchedRules(e.matched), operationsList(e)]),
      )
    : html`<p>No events recorded yet (or all older than the history's retention).</p>`;
  return html`<section id="recent-events"><h2>Recent events</h2>${body}</section>`;
}
