import { evaluate, type RuleEvent, type RuleSet } from '../../../src/rules';
import { loadValid } from './load-fixture';

let rules: RuleSet;
beforeAll(async () => {
  rules = await loadValid('conditions');
});

const T = Date.parse('2026-06-15T12:00:00Z');
const message = (text: string, more: Partial<RuleEvent> = {}): RuleEvent => ({ platform: 'line', kind: 'message', text, timestamp: T, ...more });
const matched = (e: RuleEvent) => evaluate(rules, e).matched;

describe('conditions', () => {
  it('platform: one name or a list', () => {
    expect(matched({ platform: 'facebook', kind: 'follow', timestamp: T })).toContain('platform-facebook-or-instagram');
    expect(matched({ platform: 'instagram', kind: 'follow', timestamp: T })).toContain('platform-facebook-or-instagram');
    expect(matched({ platform: 'line', kind: 'follow', timestamp: T })).not.toContain('platform-facebook-or-instagram');
    expect(matched({ platform: 'line', kind: 'follow', timestamp: T })).toContain('platform-single');
    expect(matched({ platform: 'facebook', kind: 'follow', timestamp: T })).not.toContain('platform-single');
  });

  it('platform: whatsapp, also on the keyword fast path (its bit beside the kind bits)', () => {
    expect(matched(message('我要優惠券', { platform: 'whatsapp' }))).toContain('platform-whatsapp-keyword');
    for (const platform of ['line', 'facebook', 'instagram'] as const) expect(matched(message('我要優惠券', { platform }))).not.toContain('platform-whatsapp-keyword');
    expect(matched({ platform: 'whatsapp', kind: 'postback', text: '我要優惠券', postbackData: 'x', timestamp: T })).not.toContain('platform-whatsapp-keyword');
    expect(matched({ platform: 'whatsapp', kind: 'follow', timestamp: T })).not.toContain('platform-facebook-or-instagram');
  });

  it('event: one kind or a list; other kinds do not match a rule that names kinds', () => {
    expect(matched({ platform: 'line', kind: 'postback', postbackData: 'x', timestamp: T })).toContain('event-postback-or-follow');
    expect(matched({ platform: 'line', kind: 'follow', timestamp: T })).toContain('event-postback-or-follow');
    expect(matched(message('hi'))).not.toContain('event-postback-or-follow');
    expect(matched({ platform: 'line', kind: 'other', timestamp: T })).not.toContain('event-postback-or-follow');
  });

  it('text contains: any of the patterns, anywhere', () => {
    expect(matched(message('我要優惠券！'))).toContain('text-contains');
    expect(matched(message('any COUPONS left?'))).toContain('text-contains');
    expect(matched(message('優惠'))).not.toContain('text-contains');
  });

  it('text contains_all: every pattern', () => {
    expect(matched(message('會員有折扣嗎'))).toContain('text-contains-all');
    expect(matched(message('有折扣嗎'))).not.toContain('text-contains-all');
  });

  it('text equals: the whole (trimmed) text is one of them', () => {
    expect(matched(message('  我要優惠 '))).toContain('text-equals');
    expect(matched(message('12'))).toContain('text-equals');
    expect(matched(message('我要優惠券'))).not.toContain('text-equals');
  });

  it('text starts_with', () => {
    expect(matched(message(' 我要退貨'))).toContain('text-starts-with');
    expect(matched(message('請問我要退貨'))).not.toContain('text-starts-with');
  });

  it('text regex: JavaScript syntax, case-insensitive by default', () => {
    expect(matched(message('給我會員折扣'))).toContain('text-regex');
    expect(matched(message('給我會員折扣吧'))).not.toContain('text-regex');
    expect(matched(message('Hello there'))).toContain('text-regex-case-sensitive');
    expect(matched(message('hello there'))).not.toContain('text-regex-case-sensitive');
  });

  it('case_sensitive: true compares letters as written', () => {
    expect(matched(message('I am a VIP'))).toContain('text-case-sensitive');
    expect(matched(message('I am a vip'))).not.toContain('text-case-sensitive');
    // Full-width letters are still normalised (NFKC) when case-sensitive.
    expect(matched(message('ＶＩＰ'))).toContain('text-case-sensitive');
  });

  it('every form given in one text condition must hold', () => {
    expect(matched(message('Order #123: refund please'))).toContain('text-every-form');
    expect(matched(message('Order #123: cancel please'))).not.toContain('text-every-form');
    expect(matched(message('My order #123 refund'))).not.toContain('text-every-form');
    expect(matched(message('Order 123 refund'))).not.toContain('text-every-form');
  });

  it('an event without text fails every text condition', () => {
    const m = matched({ platform: 'line', kind: 'postback', postbackData: 'coupon', timestamp: T });
    expect(m.filter((id) => id.startsWith('text-'))).toEqual([]);
  });

  it('postback: a plain value means equals, compared exactly', () => {
    const pb = (data: string): RuleEvent => ({ platform: 'line', kind: 'postback', postbackData: data, timestamp: T });
    expect(matched(pb('action=subscribe'))).toContain('postback-equals');
    expect(matched(pb('action=Subscribe'))).not.toContain('postback-equals');
    expect(matched(pb(' action=subscribe'))).not.toContain('postback-equals');
    expect(matched(message('action=subscribe'))).not.toContain('postback-equals');
  });

  it('postback forms: starts_with, contains and regex together', () => {
    const pb = (data: string): RuleEvent => ({ platform: 'facebook', kind: 'postback', postbackData: data, timestamp: T });
    expect(matched(pb('shop:item=42&size=M'))).toContain('postback-forms');
    expect(matched(pb('shop:item=42'))).not.toContain('postback-forms');
    expect(matched(pb('SHOP:item=42&size=M'))).not.toContain('postback-forms');
  });

  it('a quick reply (message with postback data) can match text and postback conditions', () => {
    const m = matched(message('我要優惠券', { postbackData: 'action=subscribe' }));
    expect(m).toEqual(expect.arrayContaining(['text-contains', 'postback-equals', 'text-starts-with']));
  });

  it('any: at least one holds', () => {
    expect(matched(message('我要退款'))).toContain('any-of');
    expect(matched({ platform: 'line', kind: 'postback', postbackData: 'refund', timestamp: T })).toContain('any-of');
    expect(matched(message('refund'))).not.toContain('any-of');
  });

  it('all: every one holds', () => {
    expect(matched(message('hello'))).toContain('all-of');
    expect(matched(message('hello', { platform: 'facebook' }))).not.toContain('all-of');
  });

  it('not: inverts', () => {
    expect(matched({ platform: 'facebook', kind: 'unfollow', timestamp: T })).toContain('not-line');
    expect(matched({ platform: 'line', kind: 'unfollow', timestamp: T })).not.toContain('not-line');
  });

  it('a disabled rule never matches', () => {
    expect(matched(message('coupon'))).not.toContain('disabled');
    expect(rules.rules.find((r) => r.id === 'disabled')?.enabled).toBe(false);
  });
});
