import { dispatchPlatforms } from '../platforms/endpoints';
import { ENVIRONMENT_CATALOGUE, type RuleCatalogue } from '../rules/catalogue';
import type { ChannelsFile } from './definitions';

/** What rules may name: the environment's channels and accounts, and those of the channels file. */
export function ruleCatalogue(file: ChannelsFile | undefined): RuleCatalogue {
  if (!file) return ENVIRONMENT_CATALOGUE;
  return {
    channels: new Map([...ENVIRONMENT_CATALOGUE.channels, ...file.channels.map((c) => [c.id, dispatchPlatforms(c.kind.dispatch)] as const)]),
    accounts: new Map([...ENVIRONMENT_CATALOGUE.accounts, ...file.accounts.map((a) => [a.name, a.provider] as const)]),
    file: file.file,
  };
}
