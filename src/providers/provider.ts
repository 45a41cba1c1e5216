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
  /** The account it tags in: names what it keeps in the store (MantaGo's token pair) and its log lines. */
  account: string;
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
  close(opts?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  /** How long a shutdown can still wait for a token refresh under way (the provider's own limit applies below it). */
  refreshWaitMs?: number;
}

/** One key of an account of this provider in the channels file (besides `provider:`). */
export interface AccountKey {
  /** As written: `bot_id`, `token`, `base_url`. */
  readonly name: string;
  readonly required: boolean;
  /** Written only as `${VARIABLE}`: a literal value is refused (secrets stay out of files). */
  readonly secret: boolean;
  /** The value is a base URL: http(s), without a query or a fragment (paths are appended to it). */
  readonly url?: boolean;
  /** For editors (the channels file's JSON Schema). */
  readonly description: string;
}

/** The values of an account's keys, variables substituted, and the variables they came from (for messages). */
export interface AccountValues {
  readonly values: Readonly<Record<string, string | undefined>>;
  /** Per key, the `${VARIABLE}` it was written as, if it was. */
  readonly variables: Readonly<Record<string, string | undefined>>;
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
  /** How an account of this provider is written in the channels file. */
  readonly accountKeys: readonly AccountKey[];
  /** The settings of an account of the channels file (its values checked against `accountKeys`). */
  fromAccount(account: AccountValues): S;
  isConfigured(settings: S): boolean;
  /** Values to redact from every log line. */
  secrets(settings: S): readonly (string | undefined)[];
  /**
   * The tag kinds it has. With one kind the kind means nothing to people and is
   * left out of descriptions and of `autotag test --json`.
   */
  readonly kinds: readonly [TagKind, ...TagKind[]];
  /** Kinds whose tags it can add but never take off again (no removal in its API), and why: rules may not remove them or give them a lifetime. */
  readonly permanentKinds?: Readonly<Partial<Record<TagKind, string>>>;
  /** The platforms whose users it can tag; actions for other platforms' users are skipped with a warning. */
  readonly platforms: readonly Platform[];
  /**
   * Whether it tells a person apart by whom they wrote to as well as by platform and
   * user id (BotBonnie's `bot_pid` is the recipient); else the recipient is no part of
   * the person (MantaGo: `platform` and `platformClientId`). See `personScope`.
   */
  readonly personByRecipient: boolean;
  /**
   * For a provider that tells people apart by recipient: what it goes by instead of the
   * recipient for users of `platform`, when the account's settings name one (BotBonnie:
   * `line_pid` or BOTBONNIE_LINE_PID, sent as `bot_pid` for every LINE destination);
   * undefined: the recipient. The store keys desired state by it (see `personScope`), and
   * re-keys rows written under another one at start (Store.rescopePersons).
   */
  personOf?(settings: S, platform: Platform): string | undefined;
  /**
   * A credential the service replaces on its own, per account (MantaGo's token pair, refreshed
   * before it expires, after which the old pair no longer works): two accounts that hold the
   * same one would each refresh it, and the first refresh retires the other's. Undefined when
   * the provider has none, or the account has none set.
   */
  rotatedCredential?(settings: S): string | undefined;
  createTagger(settings: S, deps: TaggerDeps): Promise<BuiltTagger>;
}

/**
 * Any provider's descriptor, its settings type erased: for code that goes through
 * every provider (methods take their settings bivariantly, so every descriptor is
 * one). Settings handed to it must come from the same descriptor's `env`.
 */
export type SomeProvider = ProviderDescriptor<Provider, unknown>;
