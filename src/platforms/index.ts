import { line } from './line';
import { meta } from './meta';
import { whatsapp } from './whatsapp';

/**
 * Every platform module. A new platform is a module of its own plus its entry
 * here (and in the dispatch list of the endpoints that receive it, `endpoints.ts`):
 * its names then reach rules, the playground and `autotag test`, and the rule
 * engine's bit layout grows with this list.
 */
export const PLATFORM_MODULES = [line, meta, whatsapp] as const;

export type Platform = (typeof PLATFORM_MODULES)[number]['names'][number];

/** Every platform name, in list order: what rules' `platform:` accepts. */
export const PLATFORMS: readonly Platform[] = PLATFORM_MODULES.flatMap((m): readonly Platform[] => m.names);

export type { PlatformModule, PlatformWebhook } from './platform';
