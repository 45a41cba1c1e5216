import type { RuleRejection } from '../../rules/watch-rules';
import { html, type SafeHtml } from '../html';
import { time } from './common';

const POSITION = /^(.*?:\d+:\d+): ([\s\S]*)$/;

/** One problem as FILE:LINE:COLUMN (in code) and its message. */
function problem(text: string): SafeHtml {
  const m = POSITION.exec(text);
  return m ? html`<li><code>${m[1] ?? ''}</code>: ${m[2] ?? ''}</li>` : html`<li>${text}</li>`;
}

/**
 * A refused rule edit, at the top of the page: the service still runs on the last good
 * set, which is easy to miss when an edit simply "did nothing".
 */
export function refusedEditBanner(refused: RuleRejection | undefined, rulesInForce: number | undefined): SafeHtml {
  if (!refused) return html``;
  const n = refused.problems.length;
  const set = rulesInForce === undefined ? 'the last good set' : `the last good set of ${rulesInForce} rule${rulesInForce === 1 ? '' : 's'}`;
  return html`<section id="rules-refused" class="error" role="alert">
<strong>A rule edit was refused</strong> (since ${time(refused.since)}): the files on disk have ${n} problem${n === 1 ? '' : 's'}, so ${set} stays in force, as loaded at ${time(refused.inForceSince)}. Fix the files and save them again; this goes away once they load.
<ul>${refused.problems.map(problem)}</ul>
</section>`;
}
