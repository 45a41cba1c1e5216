import { CALL_OUTCOMES, platformColour, type StackedSeries, type WindowActivity } from '../activity';
import { html, type HtmlValue, type SafeHtml } from '../html';
import { isoTime } from './common';

/**
 * Small charts drawn on the server as inline SVG: no script, and no style attribute —
 * colours are classes of the page's stylesheet (layout.ts), sizes SVG attributes. Each
 * bar has a <title>, which browsers show on hover, and each chart a text total, so the
 * numbers are there for screen readers and for people who would rather read.
 */

const W = 300;
const H = 140;
const PLOT = { left: 34, right: 296, top: 10, bottom: 118 };

/** A round number at or above `n` (1, 2, 5 × 10^k), so the axis reads well. */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

const hhmm = (ms: number) => isoTime(ms).slice(11, 16);
const fmt = (n: number) => n.toLocaleString('en-US');

function barTitle(a: WindowActivity, bar: number, parts: string): string {
  const from = a.window.start + bar * a.window.bucketMs;
  return `${isoTime(from).slice(0, 10)} ${hhmm(from)}–${hhmm(from + a.window.bucketMs)} UTC: ${parts}`;
}

interface Legend {
  /** The class that colours a key. */
  colour(key: string): string;
  /** How a key reads. */
  label(key: string): string;
}

function stackedBars(a: WindowActivity, s: StackedSeries, legend: Legend, name: string): SafeHtml {
  const { buckets } = a.window;
  const sums = Array.from({ length: buckets }, (_, i) => s.keys.reduce((sum, k) => sum + (s.values.get(k)?.[i] ?? 0), 0));
  const top = niceCeiling(Math.max(0, ...sums));
  const slot = (PLOT.right - PLOT.left) / buckets;
  const width = Math.max(1, slot * 0.8);
  const scale = (PLOT.bottom - PLOT.top) / top;
  const bars = sums.map((sum, i) => {
    if (sum === 0) return '';
    let y = PLOT.bottom;
    const x = (PLOT.left + i * slot + (slot - width) / 2).toFixed(1);
    const rects = s.keys.map((k) => {
      const n = s.values.get(k)?.[i] ?? 0;
      if (n === 0) return '';
      const h = n * scale;
      y -= h;
      return html`<rect class="${legend.colour(k)}" x="${x}" y="${y.toFixed(1)}" width="${width.toFixed(1)}" height="${h.toFixed(1)}"></rect>`;
    });
    const parts = s.keys.filter((k) => (s.values.get(k)?.[i] ?? 0) > 0).map((k) => `${legend.label(k)} ${fmt(s.values.get(k)?.[i] ?? 0)}`);
    return html`<g class="bar" data-count="${sum}"><title>${barTitle(a, i, parts.join(', '))}</title>${rects}</g>`;
  });
  const mid = (PLOT.top + PLOT.bottom) / 2;
  return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${name}, ${a.window.title.toLowerCase()}: ${fmt(s.total)} in all">
<line class="axis" x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}"></line>
<line class="grid" x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.right}" y2="${PLOT.top}"></line>
<line class="grid" x1="${PLOT.left}" y1="${mid}" x2="${PLOT.right}" y2="${mid}"></line>
<text class="tick" x="${PLOT.left - 4}" y="${PLOT.top + 4}" text-anchor="end">${fmt(top)}</text>
<text class="tick" x="${PLOT.left - 4}" y="${mid + 4}" text-anchor="end">${top % 2 === 0 ? fmt(top / 2) : ''}</text>
<text class="tick" x="${PLOT.left - 4}" y="${PLOT.bottom + 4}" text-anchor="end">0</text>
${bars}
<text class="tick" x="${PLOT.left}" y="${H - 6}">${a.window.startLabel}</text>
<text class="tick" x="${PLOT.right}" y="${H - 6}" text-anchor="end">now</text>
</svg>`;
}

function legendList(s: StackedSeries, legend: Legend): SafeHtml {
  if (s.keys.length === 0) return html``;
  return html`<ul class="legend">${s.keys.map((k) => html`<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect class="${legend.colour(k)}" width="10" height="10"></rect></svg>${legend.label(k)} <strong>${fmt(s.totals.get(k) ?? 0)}</strong></li>`)}</ul>`;
}

function figure(a: WindowActivity, what: string, title: string, total: number, body: HtmlValue): SafeHtml {
  return html`<figure class="chart" id="chart-${a.window.id}-${what}" data-total="${total}">
<figcaption><span>${title}</span> <strong class="total">${fmt(total)}</strong></figcaption>
${body}
</figure>`;
}

const PLATFORM_LEGEND: Legend = { colour: (k) => `k-p${platformColour(k)}`, label: (k) => k };
const OUTCOME_LEGEND: Legend = {
  colour: (k) => `k-${k}`,
  label: (k) => CALL_OUTCOMES.find((o) => o.key === k)?.label ?? k,
};
const THROTTLED_LEGEND: Legend = { colour: () => 'k-429', label: (k) => k };

function topRulesChart(a: WindowActivity): SafeHtml {
  if (a.topRules.length === 0) return html`<p class="muted">No rule matched.</p>`;
  const row = 22;
  const height = a.topRules.length * row + 4;
  const max = Math.max(...a.topRules.map((r) => r.count));
  const barLeft = 124;
  const barMax = W - barLeft - 44;
  const rows = a.topRules.map((r, i) => {
    const y = i * row + 2;
    const shown = r.rule.length > 19 ? `${r.rule.slice(0, 18)}…` : r.rule;
    const w = Math.max(1, (r.count / max) * barMax);
    return html`<g class="rule" data-rule="${r.rule}" data-count="${r.count}"><title>${r.rule}: ${fmt(r.count)} match${r.count === 1 ? '' : 'es'}</title>
<text class="label" x="0" y="${y + 15}">${shown}</text>
<rect class="k-rule" x="${barLeft}" y="${y + 4}" width="${w.toFixed(1)}" height="${row - 8}"></rect>
<text class="tick" x="${(barLeft + w + 4).toFixed(1)}" y="${y + 15}">${fmt(r.count)}</text></g>`;
  });
  const more = a.rulesMatched > a.topRules.length ? html`<p class="muted">and ${a.rulesMatched - a.topRules.length} more rules.</p>` : '';
  return html`<svg viewBox="0 0 ${W} ${height}" role="img" aria-label="Top rules by matches, ${a.window.title.toLowerCase()}">${rows}</svg>${more}`;
}

function windowCharts(a: WindowActivity): SafeHtml {
  return html`<h3>${a.window.title}</h3>
<div class="charts">
${figure(a, 'webhooks', 'Webhooks received', a.webhooks.total, html`${stackedBars(a, a.webhooks, PLATFORM_LEGEND, 'Webhooks received by platform')}${legendList(a.webhooks, PLATFORM_LEGEND)}`)}
${figure(a, 'calls', 'Tag calls', a.calls.total, html`${stackedBars(a, a.calls, OUTCOME_LEGEND, 'Tag calls by outcome')}${legendList(a.calls, OUTCOME_LEGEND)}`)}
${figure(a, 'throttled', '429 answers (rate limited)', a.throttled.total, html`${stackedBars(a, a.throttled, THROTTLED_LEGEND, '429 answers')}${legendList(a.throttled, THROTTLED_LEGEND)}`)}
${figure(a, 'rules', 'Rule matches', a.ruleMatches, topRulesChart(a))}
</div>`;
}

export function activitySection(windows: readonly WindowActivity[]): SafeHtml {
  return html`<section id="activity"><h2>Activity</h2>
${windows.map(windowCharts)}
</section>`;
}
