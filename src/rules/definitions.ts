import type { EventKind, Platform } from '../chat-event';
import type { TagAction } from '../tag-operation';

/**
 * Rules as they stand after validation, defaults applied, before compilation.
 * Strings are kept exactly as written; the compiler normalises them.
 */

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Day = (typeof DAYS)[number];

export interface TextDefinition {
  contains?: string[];
  contains_all?: string[];
  equals?: string[];
  starts_with?: string[];
  regex?: string;
  case_sensitive: boolean;
}

export interface PostbackDefinition {
  equals?: string[];
  contains?: string[];
  starts_with?: string[];
  regex?: string;
}

export interface ScheduleDefinition {
  /** `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`, local time in `timezone`. */
  from?: string;
  until?: string;
  days?: Day[];
  /** `HH:MM-HH:MM`; an end before the start wraps past midnight. */
  hours?: string;
  /** IANA name, the file's default already applied. */
  timezone: string;
}

export interface WhenDefinition {
  platform?: Platform[];
  event?: EventKind[];
  text?: TextDefinition;
  postback?: PostbackDefinition;
  schedule?: ScheduleDefinition;
  any?: WhenDefinition[];
  all?: WhenDefinition[];
  not?: WhenDefinition;
}

export interface ExampleDefinition {
  text?: string;
  event: EventKind;
  data?: string;
  platform: Platform;
  /** Milliseconds since the epoch; undefined: "now" when the examples run. */
  at?: number;
  expect: 'match' | 'no_match';
  /** Where the example is written, for its failure report. */
  line: number;
  column: number;
}

export interface RuleDefinition {
  id: string;
  description?: string;
  enabled: boolean;
  priority: number;
  stop: boolean;
  when: WhenDefinition;
  then: TagAction[];
  examples: ExampleDefinition[];
  /** Relative to the working directory. */
  file: string;
  /** Position of the rule's `id` value. */
  line: number;
  column: number;
}
