import type { DeadLetter } from '../../store/store';
import { destinationLabel } from '../../destination-label';
import { html, type SafeHtml } from '../html';
import { csrfField, describeOperation, table, time, userLink, type ViewContext } from './common';

const EXCERPT_CHARS = 300;

function what(ctx: ViewContext, d: DeadLetter): SafeHtml | string {
  if (d.operation) {
    return html`${describeOperation(d.operation)} for ${d.operation.platform} user ${userLink(ctx, d.operation.userId)} <span class="muted">(channel ${d.operation.channel})</span>`;
  }
  if (d.forward) return html`forward to ${destinationLabel(d.forward.destination)} (ordering key ${d.forward.orderingKey})`;
  return d.type;
}

function retryButton(ctx: ViewContext, id: string): SafeHtml {
  return html`<form class="inline" method="post" action="${ctx.base}/retry">${csrfField(ctx)}<input type="hidden" name="id" value="${id}"><button type="submit" aria-label="Retry ${id}">Retry</button></form>`;
}

/** The confirmation of a retry: inside this section, which the redirect scrolls to, so it is in view. */
function flashLine(flash: string | undefined): SafeHtml | '' {
  return flash ? html`<p class="flash" role="status">${flash}</p>` : '';
}

export function deadLettersSection(ctx: ViewContext, letters: readonly DeadLetter[], total: number, flash?: string): SafeHtml {
  const shown = letters.length < total ? html` <span class="muted">(the newest ${letters.length} of ${total})</span>` : '';
  if (letters.length === 0) {
    return html`<section id="dead-letters"><h2>Dead letters</h2>${flashLine(flash)}<p>None: nothing is stuck.</p></section>`;
  }
  const rows = letters.map((d) => [
    // The button first: on a phone the wide columns are off to the right.
    html`<code>${d.id}</code> ${retryButton(ctx, d.id)}`,
    time(d.at),
    what(ctx, d),
    d.status ?? '-',
    d.reason,
    d.bodyExcerpt ? html`<pre>${d.bodyExcerpt.slice(0, EXCERPT_CHARS)}${d.bodyExcerpt.length > EXCERPT_CHARS ? '…' : ''}</pre>` : '',
    d.attempts,
  ]);
  return html`<section id="dead-letters"><h2>Dead letters: ${total}${shown}</h2>
${flashLine(flash)}
<p>These will not be tried again by themselves. Retry queues them again (due now, attempts reset).</p>
<form class="inline" method="post" action="${ctx.base}/retry">${csrfField(ctx)}<input type="hidden" name="all" value="1"><button type="submit">Retry all ${total}</button></form>
${table(['id', 'since', 'what', 'status', 'reason', 'response body', 'attempts'], rows, new Set([6]))}
</section>`;
}
