import { formatAge, isoTime } from '../../format-time';
import { describeOperation } from '../../providers/describe-operation';
import { html, pathWith, type HtmlValue, type SafeHtml } from '../html';

export { describeOperation, formatAge, isoTime };

/** What every view needs from the request. */
export interface ViewContext {
  /** Where the router is mounted, e.g. `/admin`: every link and form starts here. */
  base: string;
  /** The value POST forms must carry (cookie sessions); empty for Bearer requests, which need none. */
  csrf: string;
  now: number;
}

export function csrfField(ctx: ViewContext): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;
}

/**
 * A table whose every column stays in view: on a wide screen cells wrap, on a phone
 * each row becomes a card with the column names beside the values (layout.ts reads
 * them from data-label), so nothing is cut off and nothing scrolls sideways.
 */
export function table(header: readonly HtmlValue[], rows: readonly (readonly HtmlValue[])[], numeric: ReadonlySet<number> = new Set()): SafeHtml {
  const cls = (i: number) => (numeric.has(i) ? 'num' : undefined);
  const label = (i: number) => {
    const h = header[i];
    return typeof h === 'string' ? h : '';
  };
  return html`<div class="scroll"><table>
<thead><tr>${header.map((h, i) => html`<th${cls(i) ? html` class="num"` : ''}>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => html`<td${cls(i) ? html` class="num"` : ''} data-label="${label(i)}">${c}</td>`)}</tr>`)}</tbody>
</table></div>`;
}

/** A link to the user lookup for `userId`. */
export function userLink(ctx: ViewContext, userId: string): SafeHtml {
  return html`<a href="${pathWith(ctx.base, { user: userId })}#user">${userId}</a>`;
}

export function time(ms: number): SafeHtml {
  return html`<time datetime="${isoTime(ms)}">${isoTime(ms).replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}
