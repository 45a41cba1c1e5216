import { line } from './line';
import { meta } from './meta';
import { whatsapp } from './whatsapp';

/**
 * Every platform module. A new platform is a module of its own (platform.ts says
 * what it declares: names, envelope, endpoint and its variables, signature, channel
 * kind, `toChatEvents`, ordering key) plus its entry here: its environment endpoint
 * and channel kind are then built from this list (`endpoints.ts`), its variables read
 * by config and listed in the deploy checks, its names reach rules, the playground and
 * `autotag test`, and the rule engine's bit layout grows with this list. A module in
 * Meta's envelope is also reached through every endpoint that `receives: 'envelope'`
 * there (a Meta app's callback URL). Order matters: it is the order of the endpoints.
 */
export const PLATFORM_MODULES = [line, meta, whatsapp] as const;

export type Platform = (typeof PLATFORM_MODULES)[number]['names'][number];

/** Every platform name, in list order: what rules' `platform:` accepts. */
export const PLATFORMS: readonly Platform[] = PLATFORM_MODULES.flatMap((m): readonly Platform[] => m.names);

export type { PlatformModule, PlatformWebhook } from './platform';
