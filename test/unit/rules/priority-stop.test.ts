import { evaluate, type RuleSet } from '../../../src/rules';
import { loadValid } from './load-fixture';
import { reported } from './fixtures';

let rules: RuleSet;
beforeAll(async () => {
  rules = await loadValid('priority');
});

const say = (text: string) => evaluate(rules, { platform: 'line', kind: 'message', text, timestamp: 0 });

describe('evaluation order, priority and stop', () => {
  it('orders by descending priority, then file path, then position; skips dot-files and other extensions', () => {
    expect(rules.rules.map((r) => r.id)).toEqual(['a-high', 'a-stop', 'b-below-stop', 'a-low', 'b-low', 'c-low', 'b-negative']);
    expect(rules.files).toEqual([reported('priority/a.yaml'), reported('priority/b.yaml'), reported('priority/sub/c.yaml')]);
  });

  it('lists matches in evaluation order and lets the first rule win add-versus-remove', () => {
    const { matched, actions } = say('big sale');
    expect(matched).toEqual(['a-high', 'b-below-stop', 'a-low', 'b-low', 'c-low', 'b-negative']);
    expect(actions).toEqual([
      { action: 'remove', provider: 'mantago', kind: 'personal', tagId: 'shared' },
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'high' },
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'below' },
      // A different provider's tag of the same id is a different tag.
      { action: 'add', provider: 'botbonnie', kind: 'personal', tagId: 'shared' },
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'everything' },
    ]);
  });

  it('evaluates no rule after a matching stop rule', () => {
    const { matched, actions } = say('stop the sale');
    expect(matched).toEqual(['a-high', 'a-stop']);
    expect(actions.map((a) => `${a.action}:${a.tagId}`)).toEqual(['remove:shared', 'add:high', 'add:stopped']);
  });

  it('a stop rule that does not match stops nothing', () => {
    expect(say('sale').matched).not.toContain('a-stop');
    expect(say('sale').matched).toContain('b-negative');
  });

  it('an empty when matches any event, with or without text', () => {
    expect(evaluate(rules, { platform: 'instagram', kind: 'other', timestamp: 0 }).matched).toEqual(['b-negative']);
  });
});
