import { evaluate, loadRuleSet } from '../../../src/rules';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { parseYamlSource } from '../../../src/rules/yaml-source';
import { fixture, NOW, ROOT } from './fixtures';
import { loadValid } from './load-fixture';

describe('YAML scalars are taken as written', () => {
  it('keeps text and tag values exactly as written, and reads numeric and boolean keys as such', async () => {
    const set = await loadValid('scalars');
    const byId = new Map(set.rules.map((r) => [r.id, r]));
    const zeros = byId.get('leading-zeros')!;
    expect(zeros.priority).toBe(10);
    expect(zeros.enabled).toBe(true);
    expect(zeros.actions).toEqual([{ action: 'add', provider: 'mantago', kind: 'personal', tagId: '00123' }]);
    expect(zeros.definition.when.text?.equals).toEqual(['yes', 'no', '12', '1.50', 'null', '0x1F']);
    const bond = byId.get('007')!;
    expect(bond.priority).toBe(-3);
    expect(bond.definition.when.postback?.equals).toEqual(['0012']);
    expect(bond.actions).toEqual([{ action: 'remove', provider: 'botbonnie', kind: 'personal', tagId: 'true' }]);

    const m = (text: string) => evaluate(set, { platform: 'line', kind: 'message', text, timestamp: 0 }).matched;
    expect(m('YES')).toEqual(['leading-zeros']);
    expect(m('1.5')).toEqual([]);
    expect(m('0x1f')).toEqual(['leading-zeros']);
    expect(evaluate(set, { platform: 'line', kind: 'postback', postbackData: '0012', timestamp: 0 }).matched).toEqual(['007']);
    expect(evaluate(set, { platform: 'line', kind: 'postback', postbackData: '12', timestamp: 0 }).matched).toEqual([]);
  });

  it('refuses a quoted number where a number belongs, and YAML 1.1 booleans', async () => {
    const source = parseYamlSource('a:\n  priority: "10"\n  enabled: yes\n  stop: 1\n');
    expect(source.value).toEqual({ a: { priority: '10', enabled: 'yes', stop: 1 } });
  });

  it('reads an empty value as nothing, not as empty text', () => {
    expect(parseYamlSource('when:\ndescription: ""\n').value).toEqual({ when: null, description: '' });
  });

  it('stops an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const source = parseYamlSource(lines.join('\n'));
    expect(source.value).toBeUndefined();
    expect(source.syntaxErrors[0]?.message).toMatch(/aliases expand to more than/);
  });

  it('refuses an alias inside its own anchor, and expands ordinary aliases', () => {
    expect(parseYamlSource('a: &a [1, *a]\n').syntaxErrors).toEqual([
      { position: { line: 1, column: 11 }, message: 'alias *a refers to a node that contains it' },
    ]);
    expect(parseYamlSource('a: &x [k]\nb: *x\n').value).toEqual({ a: ['k'], b: ['k'] });
  });

  it('reports type errors in words, at the value', async () => {
    const result = await loadRuleSet(fixture('invalid-types'), { cwd: ROOT, now: NOW });
    expect(result.problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).toEqual([
      '3:15: "priority" must be a whole number, not "10"',
      '4:14: "enabled" must be true or false, not "yes"',
      '5:11: "when" must be a map of keys, not "coupon"',
      '7:5: missing required key "then"',
      '9:5: missing required key "id"',
      '10:11: "then" must not be an empty list',
      '11:5: missing required key "when"',
      '14:31: "contains" must not be an empty list',
      '17:36: an empty pattern would match every text',
      '18:23: a tag id must not be empty',
    ]);
  });

  it('names a priority of infinity or not-a-number as such, not as null', () => {
    const messages = (priority: string) =>
      parseRuleFile(`defaults: { provider: mantago }\nrules:\n  - { id: r, priority: ${priority}, when: {}, then: { add_tag: t } }\n`, 'rules.yaml').problems.map((p) => p.message);
    expect(messages('.inf')).toEqual(['"priority" must be a whole number, not Infinity']);
    expect(messages('-1e400')).toEqual(['"priority" must be a whole number, not -Infinity']);
    expect(messages('.nan')).toEqual(['"priority" must be a whole number, not NaN']);
  });
});
