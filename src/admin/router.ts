import express, { type Request, type Router } from 'express';
import { createAccountRouter } from '../channels/account-router';
import { ruleCatalogue } from '../channels/catalogue';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { RuleSet } from '../rules';
import { refusedEditJson, type RuleRejection } from '../rules/watch-rules';
import { setupStatus } from '../setup-status';
import { answerWithin } from '../store/shared/answer-within';
// The store's own reading of an id: one it refuses (a leading zero) must be a 400 here, not its error.
import { DEAD_LETTER_ID } from '../store/shared/dead-letter-ids';
import { StoreUnavailableError, type Store } from '../store/store';
import { accessOf, ADMIN_STORE_WAIT_MS, createAdminAccess } from './access';
import { activitySince, activitySummary, chartWindows, windowActivity } from './activity';
import { flashMessage, retryFlash } from './flash';
import { PlaygroundInputError, runPlayground, type PlaygroundChannels, type PlaygroundInput } from './playground';
import { dashboardPage, type StoredViews } from './views/dashboard';
import { loginPage } from './views/login';
import { base, field, query } from './request';
import type { PlaygroundOutcome } from './views/playground';

export interface AdminDeps {
  config: Config;
  store: Store;
  /** The rule set in force (it changes when rules are reloaded), or undefined when none is valid. */
  rules: () => RuleSet | undefined;
  /** A rule edit on disk that was refused while the last good set stays in force (the banner). */
  refusedEdit?: () => RuleRejection | undefined;
  log: Logger;
  now?: () => number;
  /** Called after dead letters were queued again, to wake the delivery worker. */
  onRetry?: () => void;
}

const DEAD_LETTERS_SHOWN = 100;
const RECENT_EVENTS_SHOWN = 50;
const USER_HISTORY_EVENTS = 200;

/** No caching (the pages hold user data), no framing, no scripts, no referrer (user ids are in query strings). */
const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The operator's status page, mounted at /admin by `createApp`. Every route but the
 * login form needs the admin token (Bearer header or session cookie); without it the
 * answer is 401 with no data in it.
 */
export function createAdminRouter(deps: AdminDeps): Router {
  // As the app's routes: paths as written (app.ts).
  const router = express.Router({ caseSensitive: true });
  const token = deps.config.adminToken;
  if (!token) {
    // createApp never mounts it then; answer as it does, should it be mounted anyway.
    router.use((_req, res) => void res.status(404).json({ error: 'not found (set ADMIN_TOKEN to enable /admin)' }));
    return router;
  }
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  const access = createAdminAccess({ token, store, log, now });
  const accountRouter = createAccountRouter(deps.config.endpoints, deps.config.accounts);
  const channels: PlaygroundChannels = { catalogue: ruleCatalogue(deps.config.channelsFile), accountOf: (a, channel) => accountRouter.accountFor(a, channel) };
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  // PostgreSQL: who holds the caller role of each configured account (and of each account with operations).
  const callerAccounts = { callerAccounts: deps.config.accounts.map((a) => a.name) };

  router.use((_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  });

  router.get('/login', (req, res) => {
    res.type('html').send(loginPage(base(req)).value);
  });
  router.post('/login', form, access.login);

  // Everything below needs the token (Bearer) or an open session.
  router.use(access.require);

  router.get('/', async (req, res) => {
    const at = now();
    const ruleSet = deps.rules();
    const input = playgroundInput(req);
    let outcome: PlaygroundOutcome;
    if (ruleSet && (input.platform !== undefined || input.text !== undefined)) {
      try {
        outcome = { result: runPlayground(ruleSet, input, at, channels) };
      } catch (err) {
        if (!(err instanceof PlaygroundInputError)) throw err;
        outcome = { error: err.message };
      }
    }
    const userId = query(req, 'user')?.trim() || undefined;
    // A store that does not answer is what an operator most needs this page for: say so (503)
    // with the setup checklist and the playground, rather than a bare 500.
    let storeProblem = await storeAnswer(store);
    let stored: StoredViews | undefined;
    // Reads answer on a full disk or a read-only database while every webhook gets 503: say so (as /readyz does).
    const commits = storeProblem === undefined ? commitProblem(store) : Promise.resolve(undefined);
    if (storeProblem === undefined) {
      try {
        const reads = Promise.all([
          store.status(at, callerAccounts),
          store.listDeadLetters(DEAD_LETTERS_SHOWN),
          store.recentEvents(RECENT_EVENTS_SHOWN),
          userId === undefined ? undefined : store.userHistory(userId, USER_HISTORY_EVENTS),
          store.activity(activitySince(at)),
        ]);
        const [status, deadLetters, recentEvents, history, activity] = await answerWithin(reads, ADMIN_STORE_WAIT_MS);
        stored = { status, deadLetters, recentEvents, history, activity: chartWindows(at).map((w) => windowActivity(activity, w)) };
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        storeProblem = errorText(err);
      }
    }
    const granted = accessOf(res);
    const page = dashboardPage(
      { base: base(req), csrf: granted.via === 'session' ? granted.csrf : '', now: at },
      {
        ruleSet,
        refusedEdit: deps.refusedEdit?.(),
        setup: { status: setupStatus(deps.config, { rules: ruleSet }), storeProblem, storeWriteProblem: await commits },
        channels: [...channels.catalogue.channels.keys()],
        stored,
        playground: { input, outcome },
        user: { id: userId },
        flash: flashMessage(query(req, 'retried'), query(req, 'which')),
        canLogOut: granted.via === 'session',
        providerCallers: deps.config.providerCallers,
      },
    );
    res.status(stored ? 200 : 503).type('html').send(page.value);
  });

  router.get('/status.json', async (_req, res) => {
    const at = now();
    const ruleSet = deps.rules();
    const refused = deps.refusedEdit?.();
    const known = {
      rules: ruleSet ? { count: ruleSet.rules.length, enabled: ruleSet.rules.filter((r) => r.enabled).length, files: ruleSet.files } : null,
      rulesRefused: refused ? refusedEditJson(refused) : null,
      setup: setupStatus(deps.config, { rules: ruleSet }),
    };
    let read;
    const commits = commitProblem(store);
    try {
      read = await answerWithin(
        Promise.all([store.status(at, callerAccounts), store.listDeadLetters(DEAD_LETTERS_SHOWN), store.recentEvents(RECENT_EVENTS_SHOWN), store.activity(activitySince(at))]),
        ADMIN_STORE_WAIT_MS,
      );
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      // What does not need the store, and why the rest is missing (as /readyz says it).
      res.status(503).json({ error: `the store does not answer: ${errorText(err)}`, ...known });
      return;
    }
    const [queue, deadLetters, recentEvents, activity] = read;
    res.json({
      ...known,
      // null while the store commits writes; else why it cannot (webhooks get 503 meanwhile).
      storeWriteError: (await commits) ?? null,
      queue,
      activity: activitySummary(chartWindows(at).map((w) => windowActivity(activity, w))),
      deadLetters,
      recentEvents,
    });
  });

  // The same object as `autotag history --user ID --json`.
  router.get('/history.json', async (req, res) => {
    const userId = query(req, 'user')?.trim();
    if (!userId) {
      res.status(400).json({ error: 'history.json: give ?user=ID (the user id as the platform sent it)' });
      return;
    }
    let history;
    try {
      history = await answerWithin(store.userHistory(userId, USER_HISTORY_EVENTS), ADMIN_STORE_WAIT_MS);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      res.status(503).json({ error: `the store does not answer: ${errorText(err)}` });
      return;
    }
    res.json(history);
  });

  // The same object as `autotag test --json`: {"matched":[…],"operations":[…]}.
  router.get('/playground.json', (req, res) => {
    const ruleSet = deps.rules();
    if (!ruleSet) {
      res.status(503).json({ error: 'no valid rule set is loaded' });
      return;
    }
    try {
      const { matched, operations } = runPlayground(ruleSet, playgroundInput(req), now(), channels);
      res.json({ matched, operations });
    } catch (err) {
      if (!(err instanceof PlaygroundInputError)) throw err;
      res.status(400).json({ error: `playground.json: ${err.field}: ${err.message}` });
    }
  });

  router.post('/retry', form, access.csrf, async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      res.status(415).json({
        error: `retry: send the fields as application/x-www-form-urlencoded (id=op-N, id=fwd-N or all=1), as the page's form does; got ${JSON.stringify(req.headers['content-type'] ?? 'no Content-Type')} (from a shell: npx autotag dead-letters retry)`,
      });
      return;
    }
    const all = field(req, 'all') === '1';
    const id = field(req, 'id');
    if (!all && (id === undefined || !DEAD_LETTER_ID.test(id))) {
      res.status(400).json({ error: `retry: give id=op-N or id=fwd-N (see the dead letters), or all=1; got ${JSON.stringify(id ?? null)}` });
      return;
    }
    const which = all ? 'all' : (id as string);
    let count: number;
    try {
      // Not cut short like the reads: a retry the store still commits must not be reported as not done.
      count = await store.retryDeadLetters(all ? 'all' : [which], now());
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      res.status(503).json({ error: `retry: the store does not answer (${errorText(err)}); look at the dead letters again once it does` });
      return;
    }
    log.info('dead letters queued again from /admin', { which, count });
    if (count > 0) deps.onRetry?.();
    res.redirect(303, `${base(req)}?${retryFlash(count, which)}#dead-letters`);
  });

  router.post('/logout', form, access.csrf, access.logout);

  return router;
}

function playgroundInput(req: Request): PlaygroundInput {
  const input: PlaygroundInput = {};
  for (const name of ['text', 'platform', 'channel', 'event', 'data', 'at'] as const) {
    const v = query(req, name);
    if (v !== undefined) input[name] = v;
  }
  return input;
}


/** Why the store does not answer right now, or undefined when it does (the setup checklist). */
async function storeAnswer(store: Store): Promise<string | undefined> {
  try {
    await answerWithin(store.ping(), ADMIN_STORE_WAIT_MS);
    return undefined;
  } catch (err) {
    return errorText(err);
  }
}

/** Why the store cannot commit a write now (store.canCommit, as /readyz asks it), or undefined when it can. */
async function commitProblem(store: Store): Promise<string | undefined> {
  try {
    await store.canCommit();
    return undefined;
  } catch (err) {
    return errorText(err);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
