import type { ChannelKind } from '../platforms/endpoints';
import type { AccountValues } from '../providers/provider';
import type { RuleProblem } from '../rules/problems';
import type { Position } from '../rules/yaml-source';
import type { Provider } from '../tag-operation';

/** The channels file as it stands after validation, variables read. */

export interface AccountDefinition {
  readonly name: string;
  readonly provider: Provider;
  /** Its keys' values, variables substituted (a value whose variable is unset is undefined: `validate` only). */
  readonly account: AccountValues;
  /** Where its name is written. */
  readonly position: Position;
}

export interface ChannelDefinition {
  readonly id: string;
  readonly kind: ChannelKind;
  /** undefined only when its variable is unset (commands that need no secrets). */
  readonly secret: string | undefined;
  /** The variable the secret is read from. */
  readonly secretVariable: string;
  /** Meta apps: `hub.verify_token`. */
  readonly verifyToken?: string | undefined;
  readonly verifyTokenVariable?: string;
  /** LINE channels: the bot's user id, which routes `POST /webhooks/line` without an id. */
  readonly destination?: string;
  /** Account names, at most one per provider. */
  readonly accounts: readonly string[];
  readonly forwardUrls: readonly string[];
  /** Where its `id` is written. */
  readonly position: Position;
}

export interface ChannelsFile {
  /** As log lines and reasons name it: relative to the working directory inside it, else absolute. */
  readonly file: string;
  readonly accounts: readonly AccountDefinition[];
  readonly channels: readonly ChannelDefinition[];
}

export interface DeclaredNames {
  channels: Map<string, ChannelKind>;
  accounts: Map<string, Provider>;
}

export interface ChannelsFileResult {
  /** undefined when there are problems. */
  channels?: ChannelsFile;
  /**
   * The channel ids (with their platform) and account names (with their provider) the file
   * declares, also when it has problems elsewhere: rules' names are still checked against
   * them. Undefined when the file could not be read as YAML at all.
   */
  declared?: DeclaredNames;
  problems: RuleProblem[];
  /** Unset variables when they are not an error (`validate`, `test`): FILE:LINE:COLUMN lines too. */
  warnings: RuleProblem[];
}
