import type { ConfiguredAccount, ConfiguredEndpoint } from './configured';
import { NO_ACCOUNT, type Provider, type TagAction } from '../tag-operation';

/**
 * Where an action's operation goes (CONTRACT "Several channels in one instance"): the
 * account the action names, else the channel's account for the action's provider, else
 * the environment's account for that provider when its token is set, else NO_ACCOUNT —
 * kept as a dead letter that says so, and given an account at the first start where one
 * exists.
 */
export interface AccountRouter {
  accountFor(action: Pick<TagAction, 'provider' | 'account'>, channel: string): string;
  /** The account the channel's operations of `provider` go to by default (no `account:`), or NO_ACCOUNT. */
  defaultAccount(channel: string, provider: Provider): string;
}

export function createAccountRouter(endpoints: readonly ConfiguredEndpoint[], accounts: readonly ConfiguredAccount[]): AccountRouter {
  const ofChannel = new Map(endpoints.map((e) => [e.definition.channel, e.accounts]));
  const environment = new Map<string, string>(
    accounts.filter((a) => a.source === 'environment' && a.configured).map((a) => [a.provider.name, a.name]),
  );
  const defaultAccount = (channel: string, provider: Provider) => ofChannel.get(channel)?.get(provider) ?? environment.get(provider) ?? NO_ACCOUNT;
  return {
    defaultAccount,
    accountFor: (action, channel) => action.account ?? defaultAccount(channel, action.provider),
  };
}
