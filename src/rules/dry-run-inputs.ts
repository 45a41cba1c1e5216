import { carriesPostbackData, carriesText, type EventKind } from '../event-kinds';

/**
 * What a dry run (`autotag test`, the /admin playground) takes of the text and postback data it
 * was given for an event of `kind`, as a webhook would carry them: only a message has text; a
 * message (a quick reply) or a postback has postback data; a follow or unfollow has neither.
 * What the event cannot carry is left out — so the dry run matches as `serve` would — and
 * named in `leftOut`, for a note to the user.
 */
export function dryRunInputs(kind: EventKind, text: string | undefined, data: string | undefined): { text?: string; postbackData?: string; leftOut: string[] } {
  const leftOut: string[] = [];
  const a = `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
  const out: { text?: string; postbackData?: string; leftOut: string[] } = { leftOut };
  if (text !== undefined) {
    if (carriesText(kind)) out.text = text;
    else leftOut.push(`the text is left out: ${a} event has no text (only a message has), so no text condition matches it`);
  }
  if (data !== undefined) {
    if (carriesPostbackData(kind)) out.postbackData = data;
    else leftOut.push(`the postback data is left out: ${a} event has none (a postback or a quick-reply message has), so no postback condition matches it`);
  }
  return out;
}
