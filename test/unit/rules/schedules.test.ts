import { evaluate, RuleSet } from '../../../src/rules';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { parseInstant } from '../../../src/rules/instant';
import { offsetAt, parseHours, parseLocalTime } from '../../../src/rules/schedule';
import { loadValid } from './load-fixture';

let rules: RuleSet;
beforeAll(async () => {
  rules = await loadValid('schedules');
});

const at = (iso: string) => evaluate(rules, { platform: 'line', kind: 'message', text: 'hi', timestamp: Date.parse(iso) }).matched;

describe('schedules', () => {
  it('reads dates in the timezone: 16:30 UTC on the 11th is already the 12th in Taipei', () => {
    expect(at('2026-12-11T16:30:00Z')).toContain('double-12-day');
    expect(at('2026-12-11T15:59:59.999Z')).not.toContain('double-12-day');
    expect(at('2026-12-11T16:00:00Z')).toContain('double-12-day');
  });

  it('a date in until covers that whole local day, and no more', () => {
    expect(at('2026-12-12T15:59:59.999Z')).toContain('double-12-day');
    expect(at('2026-12-12T16:00:00Z')).not.toContain('double-12-day');
  });

  it('until …T23:59 covers 23:59:59', () => {
    expect(at('2026-12-12T23:59:59.999Z')).toContain('until-minute');
    expect(at('2026-12-13T00:00:00Z')).not.toContain('until-minute');
  });

  it('from …THH:MM:SS starts at that second', () => {
    expect(at('2026-12-12T08:00:29.999Z')).not.toContain('from-second');
    expect(at('2026-12-12T08:00:30Z')).toContain('from-second');
  });

  it('hours: start inclusive, end exclusive, weekdays in local time', () => {
    // 2026-12-11 is a Friday; 09:00 in Taipei is 01:00 UTC.
    expect(at('2026-12-11T01:00:00Z')).toContain('office-hours');
    expect(at('2026-12-11T00:59:59Z')).not.toContain('office-hours');
    expect(at('2026-12-11T09:59:59Z')).toContain('office-hours');
    expect(at('2026-12-11T10:00:00Z')).not.toContain('office-hours');
    // Saturday 10:00 in Taipei is Saturday 02:00 UTC; Monday 09:30 is Monday 01:30 UTC.
    expect(at('2026-12-12T02:00:00Z')).not.toContain('office-hours');
    expect(at('2026-12-14T01:30:00Z')).toContain('office-hours');
  });

  it('hours with an end before the start wrap past midnight', () => {
    // Taipei is UTC+8: 22:00 local = 14:00 UTC, 06:00 local = 22:00 UTC (previous day).
    expect(at('2026-12-11T14:00:00Z')).toContain('night');
    expect(at('2026-12-11T13:59:59Z')).not.toContain('night');
    expect(at('2026-12-11T16:30:00Z')).toContain('night');
    expect(at('2026-12-11T21:59:59Z')).toContain('night');
    expect(at('2026-12-11T22:00:00Z')).not.toContain('night');
  });

  it('days name the local date also beside hours that wrap past midnight (README, "Schedules")', () => {
    const parsed = parseRuleFile(
      [
        'defaults: { provider: mantago, timezone: UTC }',
        'rules:',
        '  - { id: friday, when: { schedule: { days: fri, hours: "22:00-02:00" } }, then: { add_tag: f } }',
        '  - id: friday-night',
        '    when: { any: [{ schedule: { days: fri, hours: "22:00-24:00" } }, { schedule: { days: sat, hours: "00:00-02:00" } }] }',
        '    then: { add_tag: n }',
      ].join('\n'),
      'rules.yaml',
    );
    expect(parsed.problems).toEqual([]);
    const set = new RuleSet(parsed.rules);
    const m = (iso: string) => evaluate(set, { platform: 'line', kind: 'message', timestamp: Date.parse(iso) }).matched;
    // 2026-12-11 is a Friday.
    expect(m('2026-12-11T01:00:00Z')).toEqual(['friday']);
    expect(m('2026-12-11T23:00:00Z')).toEqual(['friday', 'friday-night']);
    expect(m('2026-12-12T01:00:00Z')).toEqual(['friday-night']);
    expect(m('2026-12-12T02:00:00Z')).toEqual([]);
  });

  it('days are the local date in the schedule\'s own timezone, across daylight saving', () => {
    // Saturday 2026-03-07 in New York (EST, UTC-5) runs from 05:00 UTC Saturday to 05:00 UTC Sunday.
    expect(at('2026-03-07T04:59:59Z')).not.toContain('new-york-saturday');
    expect(at('2026-03-07T05:00:00Z')).toContain('new-york-saturday');
    expect(at('2026-03-08T04:59:59Z')).toContain('new-york-saturday');
    expect(at('2026-03-08T05:00:00Z')).not.toContain('new-york-saturday');
    // In summer (EDT, UTC-4) Saturday starts an hour earlier in UTC.
    expect(at('2026-07-04T04:00:00Z')).toContain('new-york-saturday');
    expect(at('2026-07-04T03:59:59Z')).not.toContain('new-york-saturday');
  });
});

describe('schedule parts', () => {
  it('parses local times to the precision written', () => {
    expect(parseLocalTime('2026-12-12')).toEqual({ first: Date.UTC(2026, 11, 12), last: Date.UTC(2026, 11, 13) - 1 });
    expect(parseLocalTime('2026-12-12T23:59')).toEqual({ first: Date.UTC(2026, 11, 12, 23, 59), last: Date.UTC(2026, 11, 13) - 1 });
    expect(parseLocalTime('2026-12-12T08:00:30')).toEqual({ first: Date.UTC(2026, 11, 12, 8, 0, 30), last: Date.UTC(2026, 11, 12, 8, 0, 31) - 1 });
    for (const bad of ['2026-02-29', '2026-13-01', '2026-12-12T24:00', '2026-12-12 10:00', '12/12/2026', '2026-12-12T10']) {
      expect(parseLocalTime(bad)).toBeUndefined();
    }
    expect(parseLocalTime('2028-02-29')).toBeDefined();
  });

  it('parses hours', () => {
    expect(parseHours('09:00-18:00')).toEqual({ start: 9 * 3_600_000, end: 18 * 3_600_000 });
    expect(parseHours('22:00-24:00')).toEqual({ start: 22 * 3_600_000, end: 24 * 3_600_000 });
    for (const bad of ['9-18', '09:00-09:00', '25:00-01:00', '09:00', '09:60-10:00']) expect(parseHours(bad)).toBeUndefined();
  });

  it('finds timezone offsets, daylight saving included', () => {
    expect(offsetAt('Asia/Taipei', Date.UTC(2026, 11, 11, 16, 30))).toBe(8 * 3_600_000);
    expect(offsetAt('America/New_York', Date.UTC(2026, 0, 15))).toBe(-5 * 3_600_000);
    expect(offsetAt('America/New_York', Date.UTC(2026, 6, 15))).toBe(-4 * 3_600_000);
    expect(offsetAt('Asia/Kolkata', Date.UTC(2026, 6, 15))).toBe(5.5 * 3_600_000);
  });

  it('reads an instant with an offset exactly, and without one in the given timezone', () => {
    expect(parseInstant('2026-12-05T10:00:00+08:00', undefined)).toBe(Date.UTC(2026, 11, 5, 2));
    expect(parseInstant('2026-12-05T02:00Z', undefined)).toBe(Date.UTC(2026, 11, 5, 2));
    expect(parseInstant('2026-12-05T10:00', undefined)).toBeUndefined();
    expect(parseInstant('2026-12-05T10:00', 'Asia/Taipei')).toBe(Date.UTC(2026, 11, 5, 2));
    expect(parseInstant('2026-07-04T00:30', 'America/New_York')).toBe(Date.UTC(2026, 6, 4, 4, 30));
    expect(parseInstant('2026-02-30T10:00Z', undefined)).toBeUndefined();
    // ISO 8601's other offset forms: ±hhmm and ±hh.
    expect(parseInstant('2026-12-05T10:00:00+0800', undefined)).toBe(Date.UTC(2026, 11, 5, 2));
    expect(parseInstant('2026-12-05T10:00:00+08', undefined)).toBe(Date.UTC(2026, 11, 5, 2));
    expect(parseInstant('2026-12-04T21:30:00-0430', undefined)).toBe(Date.UTC(2026, 11, 5, 2));
    expect(parseInstant('2026-12-05T10:00:00+2400', undefined)).toBeUndefined();
    expect(parseInstant('2026-12-05T10:00:00+08:0', undefined)).toBeUndefined();
    expect(parseInstant('2026-12-05T10:00:00+080', undefined)).toBeUndefined();
  });
});
