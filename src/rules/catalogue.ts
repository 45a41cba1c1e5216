import { PLATFORMS, type Platform } from '../chat-event';
import { dispatchPlatforms, ENVIRONMENT_ENDPOINTS, environmentChannelOf } from '../platforms/endpoints';
import { PROVIDERS, type Provider } from '../tag-operation';
import { didYouMean } from './problems';

/**
 * The channels and accounts rules may name (`when.channel`, `defaults.channel`,
 * `account:`): the environment's, and those of the channels file. Rules are checked
 * against it when they load; it changes only at a restart.
 */
export interface RuleCatalogue {
  /** Channel id → the platforms whose webhooks come in on it. */
  readonly channels: ReadonlyMap<string, readonly Platform[]>;
  /** Account name → its provider. */
  readonly accounts: ReadonlyMap<string, Provider>;
  /** The channels file, for messages ("not declared in channels.yaml"); undefined without one. */
  readonly file?: string;
}

/** Without a channels file: the environment's channels (`line`, `facebook`, `whatsapp`) and accounts (named after their provider). */
export const ENVIRONMENT_CATALOGUE: RuleCatalogue = {
  channels: new Map(ENVIRONMENT_ENDPOINTS.map((e) => [e.channel, dispatchPlatforms(e.dispatch)])),
  accounts: new Map(PROVIDERS.map((p) => [p, p])),
};

/**
 * Where a dry run's event comes in (`autotag test`, the playground): `channel`, whose
 * platform is `platform` or else its first; without a channel, the environment's channel
 * of `platform` (default line). A problem names the option it is about.
 */
export function dryRunWhere(
  catalogue: RuleCatalogue,
  platform: string | undefined,
  channel: string | undefined,
): { platform: Platform; channel: string } | { field: 'platform' | 'channel'; problem: string } {
  if (platform !== undefined && !(PLATFORMS as readonly string[]).includes(platform)) {
    return { field: 'platform', problem: `unknown platform ${JSON.stringify(platform)}: use ${PLATFORMS.join(', ')}` };
  }
  if (channel === undefined) {
    const p = (platform ?? 'line') as Platform;
    return { platform: p, channel: environmentChannelOf(p) };
  }
  const platforms = catalogue.channels.get(channel);
  if (platforms === undefined) {
    const ids = [...catalogue.channels.keys()];
    return { field: 'channel', problem: `unknown channel ${JSON.stringify(channel)}${didYouMean(channel, ids)}: use ${ids.join(', ')}` };
  }
  const p = (platform ?? platforms[0]) as Platform;
  if (!platforms.includes(p)) {
    return { field: 'channel', problem: `channel ${channel} does not receive ${p} webhooks (it receives ${platforms.join(', ')})` };
  }
  return { platform: p, channel };
}
