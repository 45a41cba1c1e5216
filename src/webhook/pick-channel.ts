import type { ConfiguredEndpoint } from '../channels/configured';

/**
 * Which channel's secret checks a webhook that came in on an endpoint. Most endpoints
 * are one channel. An environment endpoint whose bodies name the channel they are for
 * (`POST /webhooks/line`: the body's `destination`) also serves the channels file's
 * channels of its envelope that declare that name: the name in the body chooses the
 * channel, and that channel's secret must then verify the body (CONTRACT "Several
 * channels in one instance"). The name is read before the signature is checked, but
 * it only chooses a secret: a body no secret verifies gets 401 and does nothing else.
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
  /** Those that declare the name their bodies give them, by it. */
  byRoutingKey: ReadonlyMap<string, ConfiguredEndpoint>;
  /**
   * Whether any of them has a secret, with a routing key or not: then "no secret at all" (503)
   * does not hold, and a body no secret covers gets 401 (CONTRACT).
   */
  anySecret: boolean;
}

const NONE: OtherChannels = { byRoutingKey: new Map(), anySecret: false };

export function channelPicker(endpoint: ConfiguredEndpoint, others: OtherChannels = NONE): ChannelPicker {
  const own = endpoint.secret ? endpoint : undefined;
  const { byRoutingKey } = others;
  const hasSecret = own !== undefined || others.anySecret || byRoutingKey.size > 0;
  const routing = endpoint.definition.dispatch.envelope.routing;
  const uncovered = (raw: Buffer): string => {
    if (routing === undefined) return "no channel's secret covers this body";
    const key = routing.routingKey(raw);
    return `no channel's secret covers ${routing.key} ${key === undefined ? '(none)' : JSON.stringify(key.slice(0, 64))}`;
  };
  if (byRoutingKey.size === 0 || routing === undefined) {
    return { hasSecret, pick: () => own, uncovered };
  }
  return {
    hasSecret,
    pick: (raw) => {
      const key = routing.routingKey(raw);
      return (key !== undefined ? byRoutingKey.get(key) : undefined) ?? own;
    },
    uncovered,
  };
}
