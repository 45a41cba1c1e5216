import { z } from 'zod';
import { CHANNEL_KINDS, type ChannelKind } from '../platforms/endpoints';
import { PROVIDER_DESCRIPTORS } from '../providers';
import type { AccountKey } from '../providers/provider';
import { knownKeys } from '../rules/known-keys';
import { jsonShapes } from '../rules/schema';
import { VARIABLE_ONLY } from './variables';

/**
 * The shape of the channels file, as zod schemas over the plain values of the YAML
 * (every scalar a string), built from the provider descriptors' account keys and the
 * platforms' channel kinds: a new provider or channel kind needs nothing here. The
 * loader (parse-channels-file.ts) checks each account and channel on its own, so one
 * bad entry hides nothing; `channelsFileSchema` is the whole file in one schema, for
 * the JSON Schema editors use.
 */

/** Letters, digits, '-' and '_' — ASCII only: ids go into URLs (`/webhooks/line/{id}`) and metric labels. */
export const NAME = /^[A-Za-z0-9_-]+$/;
const NAME_RULE = 'letters (a-z, A-Z), digits, "-" and "_"';

export const nameSchema = z.string().regex(NAME, { message: `an id holds only ${NAME_RULE}` });

/**
 * A secret: only as `${VARIABLE}`, so secrets stay in the environment, not in a file that is
 * committed. The message names the key (never the value): a reader of the message alone knows
 * which of an entry's secrets it is about.
 */
export function secretValue(key: string) {
  return z.string().regex(VARIABLE_ONLY, {
    message: `a literal secret is not allowed for ${JSON.stringify(key)} in the channels file: write ${key}: \${VARIABLE} and set that variable in the environment`,
  });
}

const text = z.string().refine((s) => s.trim() !== '', { message: 'must not be empty' });

function accountKeySchema(key: AccountKey) {
  const value = key.secret ? secretValue(key.name) : text;
  return key.required ? value : value.optional();
}

/** One provider's account: `provider:` and the provider's own keys. */
export function accountSchema(provider: (typeof PROVIDER_DESCRIPTORS)[number]) {
  const shape: Record<string, z.ZodType> = { provider: z.literal(provider.name) };
  for (const key of provider.accountKeys) shape[key.name] = accountKeySchema(key);
  return knownKeys(shape, `a ${provider.title} account`);
}

export const ACCOUNT_SCHEMAS = new Map(PROVIDER_DESCRIPTORS.map((d) => [d.name as string, accountSchema(d)]));

/** One value or a list of them; a single value reads as a list of one. */
function oneOrMany<T extends z.ZodType>(item: T) {
  const schema = z.preprocess((v) => (Array.isArray(v) || v === undefined ? v : [v]), z.array(item));
  jsonShapes.set(schema, { kind: 'one-or-many' });
  return schema;
}

/** One channel of a kind: `id`, `platform:`, its secret (and verify token, destination), accounts and forwards. */
export function channelSchema(kind: ChannelKind) {
  const shape: Record<string, z.ZodType> = {
    id: nameSchema,
    platform: z.literal(kind.name),
    [kind.secretKey]: secretValue(kind.secretKey),
    ...(kind.verifyTokenKey ? { [kind.verifyTokenKey]: secretValue(kind.verifyTokenKey) } : {}),
    ...(kind.destinationKey ? { [kind.destinationKey]: text.optional() } : {}),
    accounts: oneOrMany(nameSchema).optional(),
    forward_urls: oneOrMany(text).optional(),
  };
  return knownKeys(shape, `a ${kind.title}`);
}

export const CHANNEL_SCHEMAS = new Map(CHANNEL_KINDS.map((k) => [k.name as string, channelSchema(k)]));

/** The top level for the loader: each account and channel is checked on its own. */
export const channelsTopSchema = knownKeys(
  { accounts: z.record(z.string(), z.unknown()).optional(), channels: z.array(z.unknown()).optional() },
  'the channels file',
);

/** The whole file in one schema, for the JSON Schema editors use. */
export function channelsFileSchema() {
  const accounts = [...ACCOUNT_SCHEMAS.values()];
  const channels = [...CHANNEL_SCHEMAS.values()];
  return knownKeys(
    {
      accounts: z.record(nameSchema, z.union(accounts as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])).optional(),
      channels: z.array(z.union(channels as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])).optional(),
    },
    'the channels file',
  );
}
