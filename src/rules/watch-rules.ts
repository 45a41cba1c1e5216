import { watch, type FSWatcher } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log';
import { findRuleFiles } from './find-rule-files';
import type { RuleCatalogue } from './catalogue';
import { loadRuleSet, type LoadOptions, type LoadResult } from './load-rules';
import { formatProblem, type RuleProblem } from './problems';
import { RuleFileStates, type RuleFileStatesOptions } from './rule-file-states';
import type { RuleSet } from './rule-set';

/** A rule edit that was refused: what is wrong with the files, since when, and since when the set in force was. */
export interface RuleRejection {
  /** FILE:LINE:COLUMN: message, in reading order. */
  problems: string[];
  /** When the files were first refused (a further broken edit keeps this time). */
  since: number;
  /** When the set still in force was loaded. */
  inForceSince: number;
}

/** A refused edit as /readyz and /admin/status.json give it. */
export function refusedEditJson(r: RuleRejection): { errors: string[]; since: string; inForceSince: string } {
  return { errors: r.problems, since: new Date(r.since).toISOString(), inForceSince: new Date(r.inForceSince).toISOString() };
}

/** The rule set in force, replaced atomically by the watcher. */
export class RulesHolder {
  private rejection: Omit<RuleRejection, 'inForceSince'> | undefined;
  private loadedAt: number;
  constructor(
    private ruleSet: RuleSet,
    private readonly now: () => number = Date.now,
  ) {
    this.loadedAt = now();
  }

  current(): RuleSet {
    return this.ruleSet;
  }

  /** Why the files on disk are being ignored right now (undefined when they are in force). */
  rejected(): string | undefined {
    return this.rejection?.problems[0];
  }

  /** The refused edit in full (undefined when the files on disk are in force). */
  refusedEdit(): RuleRejection | undefined {
    return this.rejection && { ...this.rejection, inForceSince: this.loadedAt };
  }

  replace(next: RuleSet): void {
    const changes = diffRuleSets(this.ruleSet, next);
    // A reload that changed nothing (the first check after start) leaves the time the set came into force.
    if (changes.added.length + changes.changed.length + changes.removed.length > 0) this.loadedAt = this.now();
    this.ruleSet = next;
    this.rejection = undefined;
  }

  reject(problems: string | readonly string[]): void {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    this.rejection = { problems: list.length ? list : ['invalid rules'], since: this.rejection?.since ?? this.now() };
  }
}

/** The longest wait before a reload that could not read a file (or threw) is tried again. */
export const RELOAD_RETRY_MAX_MS = 60_000;

export interface RuleChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

export function diffRuleSets(before: RuleSet, after: RuleSet): RuleChanges {
  const old = new Map(before.rules.map((r) => [r.id, r.fingerprint]));
  const now = new Map(after.rules.map((r) => [r.id, r.fingerprint]));
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    changed: [...now.keys()].filter((id) => old.has(id) && old.get(id) !== now.get(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
  };
}

export interface WatchOptions {
  dir: string;
  /** The channels and accounts rules may name (they change only at a restart). */
  catalogue?: RuleCatalogue;
  holder: RulesHolder;
  log: Logger;
  /** Called after every reload attempt (tests and metrics listen). */
  onReload?: (result: { applied: boolean; changes?: RuleChanges; problems?: string[] }) => void;
  /** How often the files are checked even when no change notification came (default 1000 ms). */
  pollMs?: number;
  /** Quiet time after a change before reloading, so an editor's several writes count once (default 250 ms). */
  debounceMs?: number;
  /** How files are told changed when their stats look the same (rule-file-states.ts). */
  files?: RuleFileStatesOptions;
  /** Use fs.watch where the platform has it (default true; false: the poll alone, as on a network mount). */
  watch?: boolean;
  /** How the files are read (default loadRuleSet; tests stand in read errors a real disk cannot be made to give). */
  load?: (dir: string, opts: LoadOptions) => Promise<LoadResult>;
  /** The example failures and rule warnings already logged for the set in force: a reload logs only the others. */
  loggedExampleFailures?: readonly RuleProblem[];
  loggedWarnings?: readonly RuleProblem[];
}

/**
 * Reloads the rules when a file under `dir` changes: notified by fs.watch where the
 * platform delivers events, and by a cheap poll of names and stats where it does not
 * (network and container mounts), with content compared where stats cannot tell
 * (RuleFileStates). The new set replaces the old only when every file is valid; otherwise
 * the last good set stays and the problems are logged with FILE:LINE:COLUMN.
 */
export function watchRules(opts: WatchOptions): { close(): void; check(): Promise<void> } {
  const { dir, holder, log } = opts;
  const pollMs = opts.pollMs ?? 1000;
  const debounceMs = opts.debounceMs ?? 250;
  // The content window must hold at least one poll after a save made in the second a stat was first seen.
  const files = new RuleFileStates({ racyMs: 2000 + pollMs, ...opts.files });
  /** A change notification came since the last check: compare every file's content. */
  let notified = false;
  let debounce: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  /** Why the last reload threw (undefined after one that did not). */
  let failed: string | undefined;
  /**
   * A reload to be tried again though the files did not change (one found a file it could not
   * read, or threw): `at` on the monotonic clock, `delayMs` after the last try, which starts at
   * the poll interval and doubles up to RELOAD_RETRY_MAX_MS — a file that stays unreadable costs
   * a reload of every rule file once a minute, not once a second.
   */
  let retry: { at: number; delayMs: number } | undefined;
  const retryLater = () => {
    const delayMs = retry ? Math.min(retry.delayMs * 2, RELOAD_RETRY_MAX_MS) : pollMs;
    retry = { at: performance.now() + delayMs, delayMs };
  };
  // A failing example is logged once, not again by every reload that still finds it (the first check
  // after start reloads). Known by where it is: its message names the time it was evaluated at.
  const where = (p: RuleProblem) => `${p.file}:${p.line}:${p.column}`;
  const what = (p: RuleProblem) => `${where(p)} ${p.message}`;
  let loggedFailures = new Set((opts.loggedExampleFailures ?? []).map(where));
  let loggedWarnings = new Set((opts.loggedWarnings ?? []).map(what));
  /** Logs the problems whose key was not logged last time; returns the keys now logged. */
  const logNew = (problems: readonly RuleProblem[], key: (p: RuleProblem) => string, logged: Set<string>, message: string) => {
    for (const p of problems) if (!logged.has(key(p))) log.warn(message, { problem: formatProblem(p) });
    return new Set(problems.map(key));
  };

  const load = opts.load ?? loadRuleSet;
  const reload = async () => {
    const loaded = await load(dir, opts.catalogue ? { catalogue: opts.catalogue } : {});
    if (!loaded.ruleSet) {
      const problems = loaded.problems.map(formatProblem);
      // A file that could not be read may be readable later with the same stats (a mount's
      // hiccup, too many open files): read again, less and less often, until it is.
      const retried = retry !== undefined;
      if (loaded.unreadable) retryLater();
      else retry = undefined;
      // The same refusal found again by such a retry is not a new one: logged and counted once.
      const before = holder.refusedEdit()?.problems;
      if (retried && before && before.length === problems.length && before.every((p, i) => p === problems[i])) {
        log.debug('rule files still refused', { problems });
        return;
      }
      holder.reject(problems);
      log.error('rule change rejected: the last valid rules stay in force', { problems });
      opts.onReload?.({ applied: false, problems });
      return;
    }
    retry = undefined;
    loggedFailures = logNew(loaded.exampleFailures, where, loggedFailures, 'rule example does not hold');
    loggedWarnings = logNew(loaded.warnings, what, loggedWarnings, 'rule warning');
    const changes = diffRuleSets(holder.current(), loaded.ruleSet);
    const wasRefused = holder.rejected() !== undefined;
    holder.replace(loaded.ruleSet);
    const any = changes.added.length + changes.changed.length + changes.removed.length > 0;
    // The first check after start reloads what is already in force: say so only when something changed,
    // or when it ends a refused edit (else the last line about the rules would still say "rejected").
    if (any) log.info('rules reloaded', { rules: loaded.ruleSet.rules.length, ...changes });
    else if (wasRefused) log.info('rule files valid again: the rules in force are unchanged', { rules: loaded.ruleSet.rules.length });
    else log.debug('rules reloaded without changes', { rules: loaded.ruleSet.rules.length });
    opts.onReload?.({ applied: true, changes });
  };

  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        const byContent = notified;
        notified = false;
        const changed = await files.changed(() => findRuleFiles(dir), byContent);
        if (changed || (retry !== undefined && performance.now() >= retry.at)) {
          await reload().then(
            () => {
              failed = undefined;
            },
            (err: unknown) => {
              // Tried again later though the files have not changed (the reload may pass): logged once.
              retryLater();
              const error = err instanceof Error ? err.message : String(err);
              if (error !== failed) log.error('rule reload failed: it is tried again later', { error });
              failed = error;
            },
          );
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (closed) return;
    notified = true;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void check(), debounceMs);
    debounce.unref();
  };

  // No snapshot is taken at start: the first check reloads once, so a file changed
  // between the initial load and this moment is not missed.
  let watcher: FSWatcher | undefined;
  if (opts.watch !== false) {
    try {
      watcher = watch(dir, { recursive: true, persistent: false }, schedule);
      watcher.on('error', () => undefined); // the poll still covers it
    } catch {
      watcher = undefined; // recursive watch unsupported here: polling alone
    }
  }
  const poll = setInterval(() => void check(), pollMs);
  poll.unref();

  return {
    check,
    close() {
      closed = true;
      watcher?.close();
      clearInterval(poll);
      if (debounce) clearTimeout(debounce);
    },
  };
}

/**
 * What a reload counts as in `autotag_rule_reloads_total`: a refused edit, or an applied one that
 * changed the rules. The first check after start re-reads what is in force and counts as neither.
 */
export function reloadOutcome(r: { applied: boolean; changes?: RuleChanges }): 'applied' | 'rejected' | undefined {
  if (!r.applied) return 'rejected';
  const c = r.changes;
  return c !== undefined && c.added.length + c.changed.length + c.removed.length > 0 ? 'applied' : undefined;
}
