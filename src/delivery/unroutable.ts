import type { Config } from '../config';
import { providerNamed, unconfiguredReason } from '../providers';
import type { ClaimedOperation, DeadLetterRequest } from '../store/store';
import { NO_ACCOUNT } from '../tag-operation';

/**
 * Why an operation no configured account can take is kept as a dead letter, and the
 * code that queues it again at the first start where its account exists.
 */
export function unroutableReason(op: ClaimedOperation, config: Pick<Config, 'accounts' | 'channelsFile'>): Pick<DeadLetterRequest, 'reason' | 'code'> {
  const provider = providerNamed(op.provider);
  if (op.account === NO_ACCOUNT) {
    return {
      reason:
        `no ${provider.title} account for it: the rule names none, channel ${op.channel} has none for ${provider.name}, ` +
        `and ${provider.tokenVariable} (the environment's ${provider.title} account) is not set`,
      code: 'account_missing',
    };
  }
  const account = config.accounts.find((a) => a.name === op.account);
  // The environment's account: as earlier releases said it.
  if (account?.source === 'environment') return { reason: unconfiguredReason(op.provider), code: 'provider_not_configured' };
  const where = config.channelsFile ? config.channelsFile.file : 'the channels file (there is none)';
  return {
    reason: account ? `account ${op.account} has no token` : `account ${op.account} is not declared in ${where}`,
    code: 'account_missing',
  };
}
