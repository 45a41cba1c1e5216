/**
 * What an editor shows when hovering a key of a rule file (the JSON Schema's
 * `description`s), in the words of the contract's reference block. Keys are
 * `definition.key` (definition names as in json-schema.ts), `definition` for
 * the whole definition, and '' / '.key' for the top level. A key the schema
 * no longer has is simply not shown; a new key without text gets none.
 */
export const RULE_FILE_DOCS: Readonly<Record<string, string>> = {
  '': 'Rules for chat-autotag: a top-level "rules:" list, and optionally "defaults:" for the rules of this file. Every scalar is taken as written (add_tag: 00123 is the tag "00123"). Check with `npx autotag validate`.',
  '.defaults': 'Defaults for the rules of this file.',
  '.rules': 'The rules; ids are unique across all files.',

  defaults: 'Defaults for the rules of this file.',
  'defaults.provider': 'Used by actions that name no provider.',
  'defaults.timezone': 'IANA timezone used by schedules that name none (default UTC).',
  'defaults.channel': 'One channel id or a list: every rule of this file holds only for events of these channels (a rule\'s own when.channel replaces it).',

  rule: 'One rule: when an event matches `when`, the actions of `then` follow.',
  'rule.id': 'Required; letters, digits, "-" and "_"; unique across all files.',
  'rule.description': 'Free text, for people.',
  'rule.enabled': 'Default true.',
  'rule.priority': 'Default 0; higher is evaluated first (equal priorities: by file path, then position).',
  'rule.stop': 'true: after this rule matches, no later rule is evaluated.',
  'rule.when': 'Every key given must hold.',
  'rule.then': 'One or more actions.',
  'rule.examples': 'Checked against this rule\'s `when` by `autotag validate`, which fails when one does not hold.',

  when: 'Every key given must hold.',
  'when.platform': 'One platform or a list.',
  'when.channel': 'One channel id or a list: the channels file\'s ids, and line, facebook, whatsapp (the environment\'s endpoints).',
  'when.event': 'One event kind or a list; absent: any kind.',
  'when.text': 'Conditions on the message text (NFKC-normalised, trimmed, lower-cased unless case_sensitive); every form given must hold.',
  'when.postback': 'Postback data equals this; or a map with equals / contains / starts_with (each one or a list) / regex. Compared exactly as received.',
  'when.schedule': 'The event\'s time must fall inside.',
  'when.any': 'At least one of these holds.',
  'when.all': 'Every one of these holds.',
  'when.not': 'This does not hold.',

  'text.contains': 'One string or a list: holds if any of them appears.',
  'text.contains_all': 'Holds if every one of them appears.',
  'text.equals': 'The whole message: one string or a list.',
  'text.starts_with': 'One string or a list.',
  'text.regex': 'JavaScript syntax with the u flag (and i unless case_sensitive), run on a linear-time engine: no backreferences or lookahead (see README, "Regular expressions").',
  'text.case_sensitive': 'Default false.',

  'postback.equals': 'The data equals one of these.',
  'postback.contains': 'The data contains one of these.',
  'postback.starts_with': 'The data starts with one of these.',
  'postback.regex': 'JavaScript syntax with the u flag, case-sensitive, run on a linear-time engine.',

  'schedule.from': 'Optional; local time in `timezone`: YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS; inclusive.',
  'schedule.until': 'Optional; inclusive to the precision written (2026-12-12T23:59 covers 23:59:59).',
  'schedule.days': 'Optional; mon … sun, the local date in the schedule\'s timezone.',
  'schedule.hours': 'Optional; "HH:MM-HH:MM", start inclusive, end exclusive; an end before the start wraps past midnight.',
  'schedule.timezone': 'IANA name; default: the file\'s defaults.timezone, else UTC.',

  action: 'add_tag or remove_tag, with the provider (unless the file\'s defaults name one).',
  'action.add_tag': 'The tag id to add.',
  'action.remove_tag': 'The tag id to remove.',
  'action.provider': 'May be left out when the file\'s defaults name one.',
  'action.kind': 'MantaGo only; default personal. Client tags cannot be removed.',
  'action.for': 'add_tag only: a lifetime; the tag is removed again this long after the event. A whole number and s, m, h or d, from 1s to 365d (e.g. 7d). Not with kind: client.',
  'action.account': 'Optional: an account of the channels file whose provider is the action\'s (or mantago / botbonnie, the environment\'s); default: the channel\'s account for the provider, else the environment\'s.',

  example: 'An event and whether the rule should match it.',
  'example.text': 'The message text (only a message event carries one).',
  'example.event': 'Default message.',
  'example.data': 'Postback data (a postback, or a message as a quick reply; a follow or unfollow carries none).',
  'example.platform': 'Default line (or the channel\'s platform).',
  'example.channel': 'The channel the event comes in on; default: the rule\'s first channel that receives the platform, else the platform\'s environment channel.',
  'example.at': 'ISO 8601 time, e.g. 2026-12-05T10:00:00+08:00 (default: now).',
  'example.expect': 'Whether the rule should match the example.',
};
