import { EVENT_KINDS, PLATFORMS } from '../../chat-event';
import type { RuleSet } from '../../rules';
import { environmentChannelOf } from '../../platforms/endpoints';
import { NO_ACCOUNT } from '../../tag-operation';
import { html, type SafeHtml } from '../html';
import type { PlaygroundInput, PlaygroundResult } from '../playground';
import { describeOperation, isoTime, table, type ViewContext } from './common';

export type PlaygroundOutcome = { result: PlaygroundResult } | { error: string } | undefined;

function form(ctx: ViewContext, channels: readonly string[], input: PlaygroundInput): SafeHtml {
  const option = (value: string, selected: string | undefined, label = value) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
  return html`<form class="stack" method="get" action="${ctx.base}#playground">
<label>Message text<input type="text" name="text" value="${input.text ?? ''}" placeholder="我要優惠券"></label>
<label>Platform<select name="platform">${PLATFORMS.map((p) => option(p, input.platform ?? 'line'))}</select></label>
<label>Channel<select name="channel">${option('', input.channel ?? '', "the platform's environment channel")}${channels.map((c) => option(c, input.channel))}</select></label>
<label>Event<select name="event">${EVENT_KINDS.map((k) => option(k, input.event ?? 'message'))}</select></label>
<label>Postback data (optional)<input type="text" name="data" value="${input.data ?? ''}" placeholder="action=subscribe"></label>
<label>Time (optional)<input type="text" name="at" value="${input.at ?? ''}" placeholder="2026-12-05T10:00:00+08:00"></label>
<button type="submit" class="primary">Test</button>
</form>`;
}

function result(r: PlaygroundResult, ruleSet: RuleSet): SafeHtml {
  const e = r.event;
  // The channel is named when it is not the one the platform's events come in on by default.
  const channel = e.channel === environmentChannelOf(e.platform) ? '' : html` (channel <code>${e.channel}</code>)`;
  const what = html`${e.kind} on ${e.platform}${channel}${e.text !== undefined ? html`, text <q>${e.text}</q>` : ''}${
    e.postbackData !== undefined ? html`, data <code>${e.postbackData}</code>` : ''
  }, at ${isoTime(e.timestamp)}`;
  if (r.matched.length === 0) {
    return html`<div id="playground-result"><p>Event: ${what}</p><p><strong>No rule matched</strong>: no tag operations.</p></div>`;
  }
  const byId = new Map(ruleSet.rules.map((rule) => [rule.id, rule]));
  const matched = table(
    ['#', 'rule', 'priority', 'where'],
    r.matched.map((id, i) => {
      const rule = byId.get(id);
      return [i + 1, html`<code>${id}</code>`, rule?.priority ?? '', rule ? `${rule.file}:${rule.line}` : ''];
    }),
    new Set([0, 2]),
  );
  const operations = r.operations.length
    ? table(
        ['action', 'provider', 'kind', 'tag', 'account'],
        r.operations.map((o, i) => [o.action, o.provider, o.kind ?? '-', html`<code>${o.tagId}</code>`, accountCell(r.accounts[i] ?? NO_ACCOUNT, o)]),
      )
    : html`<p>No tag operations.</p>`;
  const leftOut = r.leftOut.length
    ? html`<p>Left out (${r.leftOut.length}):</p><ul>${r.leftOut.map((l) => html`<li>${describeOperation(l.action)}: ${l.reason}</li>`)}</ul>`
    : '';
  return html`<div id="playground-result"><p>Event: ${what}</p>
<p>Matched ${r.matched.length} rule${r.matched.length === 1 ? '' : 's'} (in evaluation order):</p>${matched}
<p>Tag operations (${r.operations.length}):</p>${operations}${leftOut}${r.notes.map((n) => html`<p class="note">Note: ${n}.</p>`)}</div>`;
}

/** The account an operation would go to, and why: the rule names it, the channel has it, or it is the environment's. */
function accountCell(account: string, op: { provider: string; account?: string }): SafeHtml {
  if (account === NO_ACCOUNT) return html`<span class="dead">none</span> <span class="muted">(kept as a dead letter until one exists)</span>`;
  const why = op.account !== undefined ? 'named by the rule' : account === op.provider ? "the environment's" : "the channel's";
  return html`<code>${account}</code> <span class="muted">(${why})</span>`;
}

export function playgroundSection(ctx: ViewContext, ruleSet: RuleSet | undefined, channels: readonly string[], input: PlaygroundInput, outcome: PlaygroundOutcome): SafeHtml {
  let shown: SafeHtml | string = '';
  if (!ruleSet) shown = html`<p class="error">No valid rule set is loaded, so nothing can be tested.</p>`;
  else if (outcome && 'error' in outcome) shown = html`<p class="error" id="playground-result">${outcome.error}</p>`;
  else if (outcome) shown = result(outcome.result, ruleSet);
  return html`<section id="playground"><h2>Rule playground</h2>
<p class="muted">The same evaluator as <code>autotag test</code> and the webhooks, against the rules in force. Nothing is sent.</p>
${form(ctx, channels, input)}
${shown}
</section>`;
}
