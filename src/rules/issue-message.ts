import type { z } from 'zod';
import { AT_KEY } from './schema';
import { didYouMean } from './problems';
import type { PathSegment } from './yaml-source';

/**
 * Turns a zod issue into a sentence a rule author can act on, naming the key
 * it is about; zod's own wording ("expected string, received object") speaks
 * of types the author never wrote.
 */
export function issueMessage(issue: z.core.$ZodIssue, whole: string): string {
  const label = labelOf(issue.path, whole);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return `missing required key ${label}`;
      if (input === null) return `${label} needs a value`;
      if (issue.expected === 'array') return `${label} must be a list, not ${describe(input)}`;
      if (issue.expected === 'object') return `${label} must be a map of keys, not ${describe(input)}`;
      // z.record: a map of names the author chooses (the channels file's `accounts`).
      if (issue.expected === 'record') return `${label} must be a map of names to their settings, not ${describe(input)}`;
      if (issue.expected === 'boolean') return `${label} must be true or false, not ${describe(input)}`;
      if (issue.expected === 'number' || issue.expected === 'int') return `${label} must be a whole number, not ${describe(input)}`;
      return `${label} must be a single value, not ${describe(input)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      if (input === undefined) return `missing required key ${label}`;
      if (input === null) return `${label} needs a value`;
      if (typeof input !== 'string') return `${label} must be one of ${values.join(', ')}, not ${describe(input)}`;
      return `unknown ${nounOf(issue.path)} ${JSON.stringify(input)}${didYouMean(input, values) || `; expected one of ${values.join(', ')}`}`;
    }
    case 'too_small':
      return issue.origin === 'array' ? `${label} must not be an empty list` : `${label} is too short`;
    case 'too_big':
      return `${label} is too large`;
    default:
      return issue.message;
  }
}

export function issueTarget(issue: z.core.$ZodIssue): 'key' | 'value' {
  return issue.code === 'custom' && (issue.params as { at?: string } | undefined)?.at === AT_KEY ? 'key' : 'value';
}

/** The key an issue is about (for an item of a list, the list's key), quoted; `whole` when it is about the whole value. */
function labelOf(path: readonly PropertyKey[], whole: string): string {
  const key = keyOf(path);
  if (key === undefined) return whole;
  return typeof path[path.length - 1] === 'number' ? `an item of ${JSON.stringify(key)}` : JSON.stringify(key);
}

function keyOf(path: readonly PropertyKey[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return undefined;
}

// A Map, not an object: a key written in a file (`constructor`) must not find Object.prototype's.
const NOUNS = new Map([
  ['days', 'day'],
  ['expect', 'expect value'],
]);

function nounOf(path: readonly PropertyKey[]): string {
  const key = keyOf(path) ?? 'value';
  return NOUNS.get(key) ?? key;
}

function describe(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  // YAML's .inf, .nan (and 1e400) are numbers JSON has no words for: it would call them null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v);
}

/** zod paths may hold symbols in theory; rule files only ever produce strings and indexes. */
export function toPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}
