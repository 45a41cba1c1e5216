import { dispatchPlatforms } from '../platforms/endpoints';
import { ENVIRONMENT_CATALOGUE, type RuleCatalogue } from '../rules/catalogue';
import type { ChannelsFile, DeclaredNames } from './definitions';

/** What rules may name: the environment's channels and accounts, and those of the channels file. */
export function ruleCatalogue(file: ChannelsFile | undefined): RuleCatalogue {
  if (!file) return ENVIRONMENT_CATALOGUE;
  return {
    channels: new Map([...ENVIRONMENT_CATALOGUE.channels, ...file.channels.map((c) => [c.id, dispatchPlatforms(c.kind.dispatch)] as const)]),
    accounts: new Map([...ENVIRONMENT_CATALOGUE.accounts, ...file.accounts.map((a) => [a.name, a.provider] as const)]),
    file: file.file,
  };
}

/**
 * What rules may name when the channels file has problems: the channels and accounts it
 * declares all the same, so a rule naming one that is not there is still reported beside the
 * file's own problems.
 */
export function declaredCatalogue(declared: DeclaredNames, file: string): RuleCatalogue {
  return {
    channels: new Map([...ENVIRONMENT_CATALOGUE.channels, ...[...declared.channels].map(([id, kind]) => [id, dispatchPlatforms(kind.dispatch)] as const)]),
    accounts: new Map([...ENVIRONMENT_CATALOGUE.accounts, ...declared.accounts]),
    file,
  };
}
