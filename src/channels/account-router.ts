import type { ConfiguredAccount, ConfiguredEndpoint } from './configured';
import { NO_ACCOUNT, type Provider, type TagAction, type TagOperation } from '../tag-operation';

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
  /**
   * Who the operation's person is at its provider when its account says so rather than its
   * recipient (BotBonnie: the account's LINE pid for a LINE user); undefined: the recipient,
   * or an account this configuration does not have.
   */
  personOf(op: Pick<TagOperation, 'account' | 'provider' | 'platform'>): string | undefined;
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
  const byName = new Map(accounts.map((a) => [a.name, a]));
  return {
    defaultAccount,
    personOf: (op) => {
      const account = byName.get(op.account);
      return account?.provider.name === op.provider ? account.provider.personOf?.(account.settings, op.platform) : undefined;
    },
    accountFor: (action, channel) => action.account ?? defaultAccount(channel, action.provider),
  };
}
