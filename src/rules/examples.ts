import type { Platform } from '../chat-event';
import { environmentChannelOf } from '../platforms/endpoints';
import { dryRunInputs } from './dry-run-inputs';
import type { RuleProblem } from './problems';
import type { RuleSet } from './rule-set';

/**
 * Checks every rule's examples against that rule's `when` alone (enabled,
 * priority and stop play no part) and reports each one that does not hold, at
 * the example's own line.
 */
export function checkExamples(ruleSet: RuleSet, now: number): RuleProblem[] {
  const failures: RuleProblem[] = [];
  ruleSet.rules.forEach((rule, index) => {
    rule.definition.examples.forEach((ex, n) => {
      // The event as a webhook would carry it (a postback has no text, a follow no data), so an
      // example holds exactly when `serve` would match such an event.
      const { leftOut, ...inputs } = dryRunInputs(ex.event, ex.text, ex.data);
      const event = {
        platform: ex.platform,
        channel: ex.channel,
        kind: ex.event,
        ...inputs,
        timestamp: ex.at ?? now,
      };
      const matched = ruleSet.whenHolds(index, event);
      if (matched === (ex.expect === 'match')) return;
      failures.push({
        file: rule.file,
        line: ex.line,
        column: ex.column,
        message: `example ${n + 1} of rule ${JSON.stringify(rule.id)} expects ${ex.expect} but the rule ${
          matched ? 'matches' : 'does not match'
        }: ${describeEvent(event)}${leftOut.length ? ` (${leftOut.join('; ')})` : ''}`,
      });
    });
  });
  return failures;
}

function describeEvent(e: { platform: Platform; channel: string; kind: string; text?: string; postbackData?: string; timestamp: number }): string {
  // The channel is named when it is not the one a platform's events come in on by default.
  const parts = [`${e.kind} on ${e.platform}${e.channel === environmentChannelOf(e.platform) ? '' : ` (channel ${e.channel})`}`];
  if (e.text !== undefined) parts.push(`text ${JSON.stringify(e.text)}`);
  if (e.postbackData !== undefined) parts.push(`data ${JSON.stringify(e.postbackData)}`);
  parts.push(`at ${new Date(e.timestamp).toISOString()}`);
  return parts.join(', ');
}
