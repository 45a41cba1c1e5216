import type { ConfiguredAccount } from './channels/configured';
import type { RuleSet } from './rules';
import type { SetupWarning } from './setup-status';

/*
 * The start log's warnings about the rules in force (setup-status.ts): rules still tagging with
 * a shipped example tag id, and rules tagging in a provider no configured account stands for.
 */

/** Tag ids the shipped example rule files carry until the user writes their own. */
export const EXAMPLE_TAG_PREFIX = 'REPLACE-WITH-';

export function exampleTagWarnings(ruleSet: RuleSet): SetupWarning[] {
  return ruleSet.rules
    .filter((r) => r.enabled)
    .flatMap((r) => {
      const tags = [...new Set(r.actions.filter((a) => a.tagId.startsWith(EXAMPLE_TAG_PREFIX)).map((a) => a.tagId))];
      if (tags.length === 0) return [];
      return [
        {
          code: 'example-tag-id' as const,
          message:
            `rule ${r.id} (${r.file}:${r.line}:${r.column}) uses the example tag id${tags.length > 1 ? 's' : ''} ${tags.join(', ')}: ` +
            `replace ${tags.length > 1 ? 'them with tag ids' : 'it with a tag id'} of your own, or disable the rule (enabled: false)`,
        },
      ];
    });
}

/** Rules that tag with a provider no account of which is configured: their operations wait as dead letters. */
export function unconfiguredProviderWarnings(ruleSet: RuleSet, accounts: readonly ConfiguredAccount[]): SetupWarning[] {
  const byProvider = new Map<string, string[]>();
  for (const r of ruleSet.rules) {
    if (!r.enabled) continue;
    for (const a of r.actions) {
      if (accounts.some((acc) => acc.provider.name === a.provider && acc.configured)) continue;
      const ids = byProvider.get(a.provider) ?? [];
      if (!ids.includes(r.id)) ids.push(r.id);
      byProvider.set(a.provider, ids);
    }
  }
  return [...byProvider].map(([provider, ids]) => {
    const account = accounts.find((a) => a.provider.name === provider && a.source === 'environment');
    const title = account?.provider.title ?? provider;
    const shown = ids.length > 5 ? `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more` : ids.join(', ');
    return {
      code: 'provider-not-configured' as const,
      message:
        `${ids.length === 1 ? 'rule' : 'rules'} ${shown} ${ids.length === 1 ? 'tags' : 'tag'} in ${title}, but no ${title} account is configured${account ? ` (${account.provider.tokenVariable} is not set)` : ''}: ` +
        'their tag operations are kept as dead letters until one is',
    };
  });
}
