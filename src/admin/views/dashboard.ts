import type { ProviderCallers } from '../../config-types';
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
  /** The setup checklist (the first panel); its `storeProblem` says why `stored` is missing. */
  setup: SetupCheck;
  /** What the store holds, or undefined when it does not answer (the page then says so instead). */
  stored: StoredViews | undefined;
  playground: { input: PlaygroundInput; outcome: PlaygroundOutcome };
  user: { id: string | undefined };
  /** A message about what the last action (a retry) did: shown in the dead letters, where the redirect lands. */
  flash?: string;
  /** Cookie sessions get a log-out button; Bearer requests have nothing to log out of. */
  canLogOut: boolean;
  /** PROVIDER_CALLERS of this instance: how the caller roles in the queue section read. */
  providerCallers: ProviderCallers;
}

/** The parts of the page read from the store. */
export interface StoredViews {
  status: StoreStatus;
  /** The charts: the last 24 hours and the last hour. */
  activity: WindowActivity[];
  deadLetters: DeadLetter[];
  recentEvents: HistoryEvent[];
  /** The looked-up user's history (when a user was asked for). */
  history: UserHistory | undefined;
}

/** In place of the store's sections while it does not answer: the rest of the page (setup, playground) still works. */
function storeDownSection(problem: string | undefined): SafeHtml {
  return html`<section id="queue" class="error" role="alert"><h2>Store not answering</h2>
<p>The store does not answer${problem ? html`: <code>${problem}</code>` : ''}. The queue, dead letters, recent events and user lookups show again once it does; the rule playground works meanwhile.</p>
</section>`;
}

export function dashboardPage(ctx: ViewContext, d: DashboardData): SafeHtml {
  const stored = d.stored;
  return page(
    'chat-autotag status',
    html`<header><h1>chat-autotag status</h1>
<nav><a href="#setup">Setup</a><a href="#activity">Activity</a><a href="#queue">Queue</a><a href="#dead-letters">Dead letters</a><a href="#recent-events">Events</a><a href="#playground">Playground</a><a href="#user">User</a><a href="${ctx.base}/status.json">JSON</a></nav>
${d.canLogOut ? html`<form class="inline" method="post" action="${ctx.base}/logout">${csrfField(ctx)}<button type="submit">Log out</button></form>` : ''}
</header>
${refusedEditBanner(d.refusedEdit, d.ruleSet?.rules.length)}
${setupSection(d.setup)}
<p class="muted">As of ${time(ctx.now)}. <a href="${ctx.base}">Refresh</a></p>
${stored ? activitySection(stored.activity) : ''}
${rulesSummary(d.ruleSet)}
${
  stored
    ? html`${queueSection(stored.status, d.providerCallers)}
${deadLettersSection(ctx, stored.deadLetters, Math.max(stored.status.operations.dead + stored.status.forwards.dead, stored.deadLetters.length), d.flash)}
${recentEventsSection(ctx, stored.recentEvents)}`
    : storeDownSection(d.setup.storeProblem)
}
${playgroundSection(ctx, d.ruleSet, d.channels, d.playground.input, d.playground.outcome)}
${userSection(ctx, d.user.id, stored?.history)}`,
  );
}
