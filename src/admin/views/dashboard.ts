import type { RuleSet } from '../../rules';
import type { DeadLetter, HistoryEvent, StoreStatus, UserHistory } from '../../store/store';
import { html, type SafeHtml } from '../html';
import { page } from '../layout';
import type { PlaygroundInput } from '../playground';
import { csrfField, time, type ViewContext } from './common';
import { deadLettersSection } from './dead-letters';
import { recentEventsSection } from './events';
import { playgroundSection, type PlaygroundOutcome } from './playground';
import { queueSection, rulesSummary } from './queue';
import { userSection } from './user';

export interface DashboardData {
  ruleSet: RuleSet | undefined;
  /** Every channel id (the playground's choice). */
  channels: readonly string[];
  status: StoreStatus;
  deadLetters: DeadLetter[];
  recentEvents: HistoryEvent[];
  playground: { input: PlaygroundInput; outcome: PlaygroundOutcome };
  user: { id: string | undefined; history: UserHistory | undefined };
  /** A message about what the last action did. */
  flash?: string;
  /** Cookie sessions get a log-out button; Bearer requests have nothing to log out of. */
  canLogOut: boolean;
}

export function dashboardPage(ctx: ViewContext, d: DashboardData): SafeHtml {
  const deadTotal = d.status.operations.dead + d.status.forwards.dead;
  return page(
    'chat-autotag status',
    html`<header><h1>chat-autotag status</h1>
<nav><a href="#queue">Queue</a><a href="#dead-letters">Dead letters</a><a href="#recent-events">Events</a><a href="#playground">Playground</a><a href="#user">User</a><a href="${ctx.base}/status.json">JSON</a></nav>
${d.canLogOut ? html`<form class="inline" method="post" action="${ctx.base}/logout">${csrfField(ctx)}<button type="submit">Log out</button></form>` : ''}
</header>
${d.flash ? html`<p class="flash" role="status">${d.flash}</p>` : ''}
<p class="muted">As of ${time(ctx.now)}. <a href="${ctx.base}">Refresh</a></p>
${rulesSummary(d.ruleSet)}
${queueSection(d.status)}
${deadLettersSection(ctx, d.deadLetters, Math.max(deadTotal, d.deadLetters.length))}
${recentEventsSection(ctx, d.recentEvents)}
${playgroundSection(ctx, d.ruleSet, d.channels, d.playground.input, d.playground.outcome)}
${userSection(ctx, d.user.id, d.user.history)}`,
  );
}
