import type { SetupStatus } from '../../setup-status';
import { html, type SafeHtml } from '../html';

/**
 * The setup checklist, the page's first panel: the same objects `serve` logs at start
 * (src/setup-status.ts), plus whether the store answers now and takes writes. Open when something needs
 * a look (no endpoint enabled, an account without its token, no rules, a warning, a
 * store that does not answer); folded to one line otherwise. <details> needs no script.
 */

export interface SetupCheck {
  status: SetupStatus;
  /** Why the store did not answer just now; undefined when it did. */
  storeProblem: string | undefined;
  /** Why the store, answering reads, cannot commit a write (a full disk, a read-only database); undefined when it can or was not asked. */
  storeWriteProblem?: string | undefined;
}

function item(ok: boolean, text: string, detail?: SafeHtml | string): SafeHtml {
  return html`<li class="${ok ? 'ok' : 'todo'}"><span class="mark" aria-hidden="true">${ok ? '✓' : '✗'}</span><span class="sr">${ok ? 'done: ' : 'to do: '}</span>${text}${detail ? html` ${detail}` : ''}</li>`;
}

function storeDetail(c: SetupCheck): SafeHtml | string {
  if (c.storeProblem !== undefined) return html`does not answer: <code>${c.storeProblem}</code>`;
  if (c.storeWriteProblem !== undefined) return html`answers reads, but cannot commit a write: <code>${c.storeWriteProblem}</code> — webhooks get 503 until it can.`;
  return 'answers.';
}

export function needsAttention(c: SetupCheck): boolean {
  const s = c.status;
  return !s.endpoints.some((e) => e.enabled) || s.accounts.some((a) => !a.configured) || !s.rules || s.warnings.length > 0 || c.storeProblem !== undefined || c.storeWriteProblem !== undefined;
}

export function setupSection(c: SetupCheck): SafeHtml {
  const s = c.status;
  const enabled = s.endpoints.filter((e) => e.enabled).length;
  const configured = s.accounts.filter((a) => a.configured).length;
  const summary = `${enabled} of ${s.endpoints.length} webhook endpoint${s.endpoints.length === 1 ? '' : 's'} enabled, ${configured} of ${s.accounts.length} account${
    s.accounts.length === 1 ? '' : 's'
  } configured, ${s.store.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${c.storeProblem ? ' (not answering)' : c.storeWriteProblem ? ' (not taking writes)' : ''}, ${s.rules ? `${s.rules.rules} rule${s.rules.rules === 1 ? '' : 's'}` : 'no rules'}`;
  const attention = needsAttention(c);
  return html`<details id="setup" class="panel"${attention ? html` open` : ''}>
<summary><strong>Setup</strong>: ${summary}${attention ? html` — <span class="dead">needs a look</span>` : ' — all set'}</summary>
<h3>Webhook endpoints</h3>
<ul class="checklist">${s.endpoints.map((e) => item(e.enabled, e.summary))}</ul>
<h3>Tag accounts</h3>
<ul class="checklist">${s.accounts.length ? s.accounts.map((a) => item(a.configured, a.summary)) : item(false, 'no account: set a provider token (see README, "Providers")')}</ul>
<h3>Store</h3>
<ul class="checklist">${item(c.storeProblem === undefined && c.storeWriteProblem === undefined, s.store.summary, storeDetail(c))}</ul>
<h3>Rules</h3>
<ul class="checklist">${s.rules ? item(true, s.rules.summary) : item(false, 'no valid rule set is loaded: no event is tagged')}</ul>
${s.warnings.length ? html`<h3>Warnings</h3><ul class="checklist">${s.warnings.map((w) => item(false, w.message))}</ul>` : ''}
</details>`;
}
