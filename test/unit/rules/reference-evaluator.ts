import type { Evaluation, RuleDefinition, RuleEvent, WhenDefinition } from '../../../src/rules';
import type { TagAction } from '../../../src/tag-operation';

/**
 * The rules semantics written as plainly as possible, sharing no code with the
 * engine: every rule, every keyword, `includes` and fresh normalisation each
 * time, schedules through Intl and string comparison. The compiled, indexed
 * evaluator must agree with it on every input.
 */
export function referenceEvaluate(definitions: readonly RuleDefinition[], event: RuleEvent): Evaluation {
  const ordered = definitions
    .map((d, position) => ({ d, position }))
    .sort((x, y) => y.d.priority - x.d.priority || x.position - y.position)
    .map((x) => x.d);
  const matched: string[] = [];
  const actions: TagAction[] = [];
  const taken = new Set<string>();
  for (const rule of ordered) {
    if (!rule.enabled || !whenHolds(rule.when, event)) continue;
    matched.push(rule.id);
    for (const a of rule.then) {
      const key = JSON.stringify([a.provider, a.kind, a.tagId, a.account ?? null]);
      if (taken.has(key)) continue;
      taken.add(key);
      actions.push(a);
    }
    if (rule.stop) break;
  }
  return { matched, actions };
}

/** The environment's channel each platform's events come in on when an event names none. */
const ENVIRONMENT_CHANNEL: Record<string, string> = { line: 'line', facebook: 'facebook', instagram: 'facebook', whatsapp: 'whatsapp' };

export function whenHolds(w: WhenDefinition, e: RuleEvent): boolean {
  if (w.platform && !w.platform.includes(e.platform)) return false;
  if (w.channel && !w.channel.includes(e.channel ?? ENVIRONMENT_CHANNEL[e.platform]!)) return false;
  if (w.event && !(w.event as string[]).includes(e.kind)) return false;
  if (w.text) {
    if (e.text === undefined) return false;
    const cs = w.text.case_sensitive;
    // Lower-cased letter by letter: a capital sigma is σ wherever it stands (toLowerCase makes it ς at a word's end).
    const norm = (s: string) => (cs ? s.normalize('NFKC').trim() : s.normalize('NFKC').trim().toLowerCase().replace(/ς/g, 'σ'));
    const text = norm(e.text);
    if (w.text.contains && !w.text.contains.some((p) => text.includes(norm(p)))) return false;
    if (w.text.contains_all && !w.text.contains_all.every((p) => text.includes(norm(p)))) return false;
    if (w.text.equals && !w.text.equals.some((p) => text === norm(p))) return false;
    if (w.text.starts_with && !w.text.starts_with.some((p) => text.startsWith(norm(p)))) return false;
    if (w.text.regex !== undefined && !new RegExp(w.text.regex.normalize('NFKC'), cs ? 'u' : 'iu').test(e.text.normalize('NFKC').trim())) {
      return false;
    }
  }
  if (w.postback) {
    const data = e.postbackData;
    if (data === undefined) return false;
    if (w.postback.equals && !w.postback.equals.includes(data)) return false;
    if (w.postback.contains && !w.postback.contains.some((p) => data.includes(p))) return false;
    if (w.postback.starts_with && !w.postback.starts_with.some((p) => data.startsWith(p))) return false;
    if (w.postback.regex !== undefined && !new RegExp(w.postback.regex, 'u').test(data)) return false;
  }
  if (w.schedule) {
    const local = localParts(e.timestamp, w.schedule.timezone);
    const stamp = `${local.date}T${local.time}`;
    if (w.schedule.from !== undefined && stamp < expand(w.schedule.from, '00:00:00.000')) return false;
    if (w.schedule.until !== undefined && stamp > expand(w.schedule.until, '23:59:59.999')) return false;
    if (w.schedule.days && !(w.schedule.days as string[]).includes(local.weekday)) return false;
    if (w.schedule.hours !== undefined) {
      const [start, end] = w.schedule.hours.split('-') as [string, string];
      const hhmm = local.time.slice(0, 5);
      const inside = start < end ? hhmm >= start && hhmm < end : hhmm >= start || hhmm < end;
      if (!inside) return false;
    }
  }
  if (w.any && !w.any.some((x) => whenHolds(x, e))) return false;
  if (w.all && !w.all.every((x) => whenHolds(x, e))) return false;
  if (w.not && whenHolds(w.not, e)) return false;
  return true;
}

/** `2026-12-12` → `2026-12-12T<fill>`; `…T10:00` → `…T10:00` + the seconds part of fill. */
function expand(written: string, fill: string): string {
  if (!written.includes('T')) return `${written}T${fill}`;
  return written + fill.slice(written.length - 11);
}

function localParts(ms: number, timeZone: string): { date: string; time: string; weekday: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  const millis = String(((ms % 1000) + 1000) % 1000).padStart(3, '0');
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}:${parts.second}.${millis}`,
    weekday: String(parts.weekday).toLowerCase(),
  };
}
