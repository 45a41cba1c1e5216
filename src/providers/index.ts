import type { z } from 'zod';
import type { Platform } from '../chat-event';
import type { TagAction } from '../tag-operation';
import { botbonnieProvider } from './botbonnie-provider';
import { mantagoProvider } from './mantago-provider';
import type { SomeProvider } from './provider';

/**
 * Every tag provider. A new provider is a descriptor (see provider.ts) and its entry
 * here; rules, config, delivery, the admin pages and the CLI take it from this list.
 */
export const PROVIDER_DESCRIPTORS = [mantagoProvider, botbonnieProvider] as const;

type Descriptor = (typeof PROVIDER_DESCRIPTORS)[number];
export type Provider = Descriptor['name'];
export const PROVIDERS: readonly Provider[] = PROVIDER_DESCRIPTORS.map((d) => d.name);

/** Each provider's settings, as config read them from the environment with its descriptor. */
export type ProviderSettings = { readonly [D in Descriptor as D['name']]: z.output<D['env']> };

const BY_NAME = new Map<string, SomeProvider>(PROVIDER_DESCRIPTORS.map((d) => [d.name, d]));

export function providerNamed(name: Provider): SomeProvider {
  const d = BY_NAME.get(name);
  if (d === undefined) throw new Error(`unknown provider ${JSON.stringify(name)}`);
  return d;
}

/** A provider with its settings: what code that goes through every provider works with. */
export interface ProviderSetup {
  readonly provider: SomeProvider;
  readonly settings: unknown;
  readonly configured: boolean;
}

export function providerSetups(settings: ProviderSettings): ProviderSetup[] {
  return PROVIDER_DESCRIPTORS.map((d): ProviderSetup => {
    // Config read these settings with this same descriptor's `env`.
    const own: unknown = settings[d.name];
    const provider: SomeProvider = d;
    return { provider, settings: own, configured: provider.isConfigured(own) };
  });
}

/**
 * Why `action` cannot be carried out for a user of `platform`, or undefined when it can:
 * a provider tags the users of the platforms its descriptor lists, and no others.
 */
export function skipReason(action: Pick<TagAction, 'provider'>, platform: Platform): string | undefined {
  const provider = providerNamed(action.provider);
  if (provider.platforms.includes(platform)) return undefined;
  return `${platform} users are not ${provider.title} users (${provider.title} tags ${provider.platforms.join(' and ')} users)`;
}

/** The reason kept on operations that arrived while their provider had no token. */
export function unconfiguredReason(provider: Provider): string {
  return `${providerNamed(provider).tokenVariable} is not set`;
}

export type { SomeProvider, ProviderDescriptor, TaggerDeps, BuiltTagger } from './provider';
