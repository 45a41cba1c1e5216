import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Platform } from '../chat-event';
import type { Logger } from '../log';
import type { TagKind } from '../tag-operation';
import type { Provider } from './index';
import type { SettingsStore } from './settings-store';
import type { Tagger } from './taggers';

/** What building a tagger may use. */
export interface TaggerDeps {
  /** TAG_API_TIMEOUT_MS: how long one call may take. */
  timeoutMs: number;
  settings: SettingsStore;
  log: Logger;
  /** Tests and benchmarks pass their own connection pool. */
  dispatcher?: Dispatcher;
}

export interface BuiltTagger {
  tagger: Tagger;
  /** Closes the client's connection pool. */
  close(): Promise<void>;
}

/**
 * Everything the service knows about one tag provider, in one place: everything
 * else (config, rules, delivery, the admin pages, the CLI) reads it from here.
 * The HTTP client it builds its tagger with is loaded only when a tagger is built.
 */
export interface ProviderDescriptor<N extends string, S> {
  /** As written in rules (`provider: mantago`) and stored with operations. */
  readonly name: N;
  /** For people: `MantaGo`. */
  readonly title: string;
  /** Its environment variables, read and checked with the rest of the configuration. */
  readonly env: z.ZodType<S>;
  /** The names of the variables `env` reads (deploy files are checked against them). */
  readonly variables: readonly string[];
  /** CONTRACT: a provider is configured when its token is set. */
  readonly tokenVariable: string;
  isConfigured(settings: S): boolean;
  /** Values to redact from every log line. */
  secrets(settings: S): readonly (string | undefined)[];
  /**
   * The tag kinds it has. With one kind the kind means nothing to people and is
   * left out of descriptions and of `autotag test --json`.
   */
  readonly kinds: readonly [TagKind, ...TagKind[]];
  /** The platforms whose users it can tag; actions for other platforms' users are skipped with a warning. */
  readonly platforms: readonly Platform[];
  createTagger(settings: S, deps: TaggerDeps): Promise<BuiltTagger>;
}

/**
 * Any provider's descriptor, its settings type erased: for code that goes through
 * every provider (methods take their settings bivariantly, so every descriptor is
 * one). Settings handed to it must come from the same descriptor's `env`.
 */
export type SomeProvider = ProviderDescriptor<Provider, unknown>;
