import type { ConfiguredEndpoint } from '../channels/configured';

/**
 * Which channel's secret checks a webhook that came in on an endpoint. Most endpoints
 * are one channel. `POST /webhooks/line` without an id also serves the LINE channels of
 * the channels file that declare a `destination`: the body's `destination` chooses the
 * channel, and that channel's secret must then verify the body (CONTRACT "Several
 * channels in one instance"). The destination is read before the signature is checked,
 * but it only chooses a secret: a body no secret verifies gets 401 and does nothing else.
 */
export interface ChannelPicker {
  /** Some channel of this endpoint has a secret (otherwise 503 before reading the body). */
  readonly hasSecret: boolean;
  /** The channel whose secret must verify `raw`, or undefined when none covers it (401). */
  pick(raw: Buffer): ConfiguredEndpoint | undefined;
  /** For the 401 when `pick` found none. */
  uncovered(raw: Buffer): string;
}

/** The channels an endpoint serves besides its own (`POST /webhooks/line`: the channels file's LINE channels). */
export interface OtherChannels {
  /** Those that declare a `destination`, by it. */
  byDestination: ReadonlyMap<string, ConfiguredEndpoint>;
  /**
   * Whether any of them has a secret, destination or not: then "no LINE secret at all" (503)
   * does not hold, and a body no secret covers gets 401 (CONTRACT).
   */
  anySecret: boolean;
}

const NONE: OtherChannels = { byDestination: new Map(), anySecret: false };

export function channelPicker(endpoint: ConfiguredEndpoint, others: OtherChannels = NONE): ChannelPicker {
  const own = endpoint.secret ? endpoint : undefined;
  const { byDestination } = others;
  const hasSecret = own !== undefined || others.anySecret || byDestination.size > 0;
  if (byDestination.size === 0) {
    return { hasSecret, pick: () => own, uncovered: (raw) => uncovered(raw) };
  }
  return {
    hasSecret,
    pick: (raw) => {
      const destination = destinationOf(raw);
      return (destination !== undefined ? byDestination.get(destination) : undefined) ?? own;
    },
    uncovered,
  };
}

function uncovered(raw: Buffer): string {
  const destination = destinationOf(raw);
  return `no channel's secret covers destination ${destination === undefined ? '(none)' : JSON.stringify(destination.slice(0, 64))}`;
}

/** The `destination` of a LINE body; undefined when it is not JSON or names none (the environment's channel then checks it). */
export function destinationOf(raw: Buffer): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const destination = typeof body === 'object' && body !== null ? (body as { destination?: unknown }).destination : undefined;
  return typeof destination === 'string' ? destination : undefined;
}
