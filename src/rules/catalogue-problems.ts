import { providerNamed } from '../providers';
import { PROVIDERS, type Provider } from '../tag-operation';
import type { RuleCatalogue } from './catalogue';
import { didYouMean } from './problems';
import type { PathSegment } from './yaml-source';

/*
 * The channels and accounts a rule names must exist (CONTRACT: "a channel rules name
 * that does not exist" is an error, and `account:` must name an account of the action's
 * provider). Checked on the raw rule, so each name is reported at its own position even
 * when the rule has other problems. Paths are relative to the rule.
 */

type Problem = [PathSegment[], string];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key holding one value or a list, as (value, path) pairs. */
function entries(holder: Record<string, unknown>, key: string, base: PathSegment[]): [unknown, PathSegment[]][] {
  const v = holder[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map((x, i) => [x, [...base, key, i]]) : [[v, [...base, key]]];
}

function unknownChannel(id: string, catalogue: RuleCatalogue): string {
  const ids = [...catalogue.channels.keys()];
  const where = catalogue.file ? `the channels of ${catalogue.file} and the environment's` : 'the environment\'s channels (there is no channels file)';
  return `unknown channel ${JSON.stringify(id)}${didYouMean(id, ids)}; ${where}: ${ids.join(', ')}`;
}

function channelProblems(when: unknown, base: PathSegment[], catalogue: RuleCatalogue, out: Problem[]): void {
  if (!isRecord(when)) return;
  for (const [id, path] of entries(when, 'channel', base)) {
    if (typeof id === 'string' && !catalogue.channels.has(id)) out.push([path, unknownChannel(id, catalogue)]);
  }
  for (const key of ['any', 'all'] as const) {
    const list = when[key];
    if (Array.isArray(list)) list.forEach((sub, i) => channelProblems(sub, [...base, key, i], catalogue, out));
  }
  channelProblems(when.not, [...base, 'not'], catalogue, out);
}

export function catalogueProblems(rawRule: unknown, defaultProvider: Provider | undefined, catalogue: RuleCatalogue): Problem[] {
  const out: Problem[] = [];
  if (!isRecord(rawRule)) return out;
  channelProblems(rawRule.when, ['when'], catalogue, out);

  for (const [action, path] of entries(rawRule, 'then', [])) {
    if (!isRecord(action) || typeof action.account !== 'string') continue;
    const name = action.account;
    const provider = typeof action.provider === 'string' ? action.provider : defaultProvider;
    const accountProvider = catalogue.accounts.get(name);
    if (accountProvider === undefined) {
      const names = [...catalogue.accounts.keys()];
      const where = catalogue.file ? `the accounts of ${catalogue.file} and the environment's` : 'the environment\'s accounts (there is no channels file)';
      out.push([[...path, 'account'], `unknown account ${JSON.stringify(name)}${didYouMean(name, names)}; ${where}: ${names.join(', ')}`]);
    } else if (provider !== undefined && (PROVIDERS as readonly string[]).includes(provider) && provider !== accountProvider) {
      out.push([
        [...path, 'account'],
        `account ${name} is a ${providerNamed(accountProvider).title} account, but this action's provider is ${provider}`,
      ]);
    }
  }

  for (const [example, path] of entries(rawRule, 'examples', [])) {
    if (!isRecord(example) || typeof example.channel !== 'string') continue;
    const platforms = catalogue.channels.get(example.channel);
    if (platforms === undefined) out.push([[...path, 'channel'], unknownChannel(example.channel, catalogue)]);
    else if (typeof example.platform === 'string' && !(platforms as readonly string[]).includes(example.platform)) {
      out.push([[...path, 'channel'], `channel ${example.channel} does not receive ${example.platform} webhooks (it receives ${platforms.join(', ')})`]);
    }
  }
  return out;
}
