import type { RuleSet } from '../../rules';
import type { RuleRejection } from '../../rules/watch-rules';
import type { DeadLetter, HistoryEvent, StoreStatus, UserHistory } from '../../store/store';
import type { WindowActivity } from '../activity';
import { html, type SafeHtml } from '../html';
import { page } from '../layout';
import type { PlaygroundInput } from '../playground';
import { activitySection } from './charts';
import { csrfField, time, type ViewContext } from './common';
import { deadLettersSection } from './dead-letters';
import { recentEventsSection } from './events';
import { playgroundSection, type PlaygroundOutcome } from './playground';
import { queueSection, rulesSummary } from './queue';
import { refusedEditBanner } from './rules-banner';
import { setupSection, type SetupCheck } from './setup';
import { userSection } from './user';

export interface DashboardData {
  ruleSet: RuleSet | undefined;
  /** A rule edit on disk that was refused (the last good set is in force). */
  refusedEdit: RuleRejection | undefined;
  /** Every channel id (the playground's choice). */
  channels: readonly string[];
  status: StoreStatus;
  /** The setup checklist (the first panel). */
  setup: SetupCheck;
  /** The charts: the last 24 hours and the last hour. */
  activity: WindowActivity[];
  deadLetters: DeadLetter[];
  recentEvents: HistoryEvent[];
  playground: { input: PlaygroundInput; outcome: PlaygroundOutcome };
  user: { id: string | undefined; history: UserHistory | undefined };
  /** A message about what the last action (a retry) did: shown in the dead letters, where the redirect lands. */
  flash?: string;
  /** Cookie sessions get a log-out button; Bearer requests have nothing to log out of. */
  canLogOut: boolean;
}

export function dashboardPage(ctx: ViewContext, d: DashboardData): SafeHtml {
  const deadTotal = d.status.operations.dead + d.status.forwards.dead;
  return page(
    'chat-autotag status',
    html`<header><h1>chat-autotag status</h1>
<nav><a href="#setup">Setup</a><a href="#activity">Activity</a><a href="#queue">Queue</a><a href="#dead-letters">Dead letters</a><a href="#recent-events">Events</a><a href="#playground">Playground</a><a href="#user">User</a><a href="${ctx.base}/status.json">JSON</a></nav>
${d.canLogOut ? html`<form class="inline" method="post" action="${ctx.base}/logout">${csrfField(ctx)}<button type="submit">Log out</button></form>` : ''}
</header>
${refusedEditBanner(d.refusedEdit, d.ruleSet?.rules.length)}
${setupSection(d.setup)}
<p class="muted">As of ${time(ctx.now)}. <a href="${ctx.base}">Refresh</a></p>
${activitySection(d.activity)}
${rulesSummary(d.ruleSet)}
${queueSection(d.status)}
${deadLettersSection(ctx, d.deadLetters, Math.max(deadTotal, d.deadLetters.length), d.flash)}
${recentEventsSection(ctx, d.recentEvents)}
${playgroundSection(ctx, d.ruleSet, d.channels, d.playground.input, d.playground.outcome)}
${userSection(ctx, d.user.id, d.user.history)}`,
  );
}
