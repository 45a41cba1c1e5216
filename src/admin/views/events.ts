import type { HistoryEvent } from '../../store/store';
import { html, type SafeHtml } from '../html';
import { describeOperation, table, time, userLink, type ViewContext } from './common';

/** The event as a short line: its kind (or platform type), text and postback data when known. */
export function describeEvent(e: HistoryEvent): SafeHtml {
  return html`${e.kind === 'other' ? e.type : e.kind}${e.text !== undefined ? html` <q>${e.text}</q>` : ''}${
    e.postbackData !== undefined ? html` <span class="muted">data=</span><code>${e.postbackData}</code>` : ''
  }`;
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
        ['received', 'platform', 'user', 'event', 'matched rules', 'tag operations'],
        events.map((e) => [time(e.receivedAt), e.platform, userLink(ctx, e.userId), describeEvent(e), matchedRules(e.matched), operationsList(e)]),
      )
    : html`<p>No events recorded yet (or all older than the history's retention).</p>`;
  return html`<section id="recent-events"><h2>Recent events</h2>${body}</section>`;
}
