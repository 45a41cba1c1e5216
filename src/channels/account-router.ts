import type { ConfiguredAccount, ConfiguredEndpoint } from './configured';
import { NO_ACCOUNT, type Provider, type TagAction } from '../tag-operation';

/**
 * Where an action's operation goes (CONTRACT "Several channels in one instance"): the
 * account the action names, else the channel's account for the action's provider, else
 * the environment's account for that provider when its token is set. Else it is kept as
 * a dead letter until an account exists: for the environment's channels, which can only
 * ever use the environment's account, in that account (as before channels existed:
 * queued again once its token is set); for a channel of the channels file, under
 * NO_ACCOUNT, given an account at the first start where the channel or the environment
 * has one.
 */
export interface AccountRouter {
  accountFor(action: Pick<TagAction, 'provider' | 'account'>, channel: string): string;
  /** The account the channel's operations of `provider` go to by default (no `account:`), or NO_ACCOUNT. */
  defaultAccount(channel: string, provider: Provider): string;
}

export function createAccountRouter(endpoints: readonly ConfiguredEndpoint[], accounts: readonly ConfiguredAccount[]): AccountRouter {
  const ofChannel = new Map(endpoints.map((e) => [e.definition.channel, e]));
  const environment = new Map<string, string>(
    accounts.filter((a) => a.source === 'environment' && a.configured).map((a) => [a.provider.name, a.name]),
  );
  const defaultAccount = (channel: string, provider: Provider) => {
    const endpoint = ofChannel.get(channel);
    const own = endpoint?.accounts.get(provider) ?? environment.get(provider);
    if (own !== undefined) return own;
    // The environment's account is named after its provider.
    return endpoint === undefined || endpoint.source === 'environment' ? provider : NO_ACCOUNT;
  };
  return {
    defaultAccount,
    accountFor: (action, channel) => action.account ?? defaultAccount(channel, action.provider),
  };
}
