import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { providerNamed } from '../../../src/providers';

/**
 * What a rule may ask of a tag kind comes from the provider descriptors (`kinds`,
 * `permanentKinds`), not from the rule schema: MantaGo's client tags cannot be removed,
 * BotBonnie has no client tags.
 */
const problemsOf = (action: string, defaults = '') =>
  parseRuleFile(`${defaults}rules:\n  - id: r\n    when: { text: { contains: x } }\n    then:\n      - ${action}\n`, 'rules.yaml').problems.map((p) => p.message);

describe('tag kinds as the providers describe them', () => {
  it('MantaGo client tags are permanent, because its descriptor says so', () => {
    expect(providerNamed('mantago').permanentKinds).toEqual({ client: 'its API has no delete' });
    expect(problemsOf('{ remove_tag: t, provider: mantago, kind: client }')).toEqual(['remove_tag cannot be used with kind: client: MantaGo client tags cannot be removed (its API has no delete)']);
    expect(problemsOf('{ add_tag: t, provider: mantago, kind: client, for: 7d }')).toEqual(['for cannot be used with kind: client: MantaGo client tags cannot be removed (its API has no delete)']);
    // The provider from the file's defaults: the kind is permanent wherever it exists.
    expect(problemsOf('{ remove_tag: t, kind: client }', 'defaults: { provider: mantago }\n')).toHaveLength(1);
    expect(problemsOf('{ add_tag: t, provider: mantago, kind: client }')).toEqual([]);
  });

  it('a kind the provider does not have is refused, naming who has it', () => {
    expect(problemsOf('{ add_tag: t, provider: botbonnie, kind: client }')).toEqual(['kind applies to MantaGo only: BotBonnie has no client tags']);
    expect(problemsOf('{ add_tag: t, provider: botbonnie, kind: personal }')).toEqual([]);
  });
});
