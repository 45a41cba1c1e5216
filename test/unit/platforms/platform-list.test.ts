import { channelsRoutedBy, type ConfiguredEndpoint } from '../../../src/channels/configured';
import { CHANNEL_KINDS, dispatchPlatforms, ENVIRONMENT_ENDPOINTS, type EndpointDefinition } from '../../../src/platforms/endpoints';
import { PLATFORM_MODULES } from '../../../src/platforms/index';
import type { Envelope, ReceivedWebhook } from '../../../src/platforms/platform';
import { channelPicker } from '../../../src/webhook/pick-channel';

/*
 * A platform is one module plus its entry in the platform list: the endpoints and
 * channel kinds come from the modules, and the request path knows a body's routing key
 * only as a capability of its envelope.
 */

describe('the endpoints, built from the platform list', () => {
  it('are the modules\' endpoints, in list order, with their variables as declared', () => {
    expect(ENVIRONMENT_ENDPOINTS.map((e) => e.path)).toEqual(PLATFORM_MODULES.map((m) => m.endpoint.path));
    expect(ENVIRONMENT_ENDPOINTS.map(({ channel, path, secret, verifyToken, forwardUrls, signature }) => ({ channel, path, secret, verifyToken, forwardUrls, header: signature.header }))).toEqual([
      { channel: 'line', path: '/webhooks/line', secret: ['LINE_CHANNEL_SECRET'], verifyToken: undefined, forwardUrls: 'LINE_FORWARD_URLS', header: 'x-line-signature' },
      { channel: 'facebook', path: '/webhooks/facebook', secret: ['FACEBOOK_APP_SECRET'], verifyToken: ['FACEBOOK_VERIFY_TOKEN'], forwardUrls: 'FACEBOOK_FORWARD_URLS', header: 'x-hub-signature-256' },
      {
        channel: 'whatsapp',
        path: '/webhooks/whatsapp',
        secret: ['WHATSAPP_APP_SECRET', 'FACEBOOK_APP_SECRET'],
        verifyToken: ['WHATSAPP_VERIFY_TOKEN', 'FACEBOOK_VERIFY_TOKEN'],
        forwardUrls: 'WHATSAPP_FORWARD_URLS',
        header: 'x-hub-signature-256',
      },
    ]);
  });

  it('hand a body to the declaring module, or to every module of its envelope (a Meta app\'s callback URL)', () => {
    expect(ENVIRONMENT_ENDPOINTS.map((e) => dispatchPlatforms(e.dispatch))).toEqual([['line'], ['facebook', 'instagram', 'whatsapp'], ['whatsapp']]);
    expect(CHANNEL_KINDS.map((k) => [k.name, k.pathPrefix, dispatchPlatforms(k.dispatch), k.destinationKey])).toEqual([
      ['line', '/webhooks/line', ['line'], 'destination'],
      ['meta', '/webhooks/meta', ['facebook', 'instagram', 'whatsapp'], undefined],
    ]);
  });
});

describe('a body that names its channel', () => {
  // An envelope of no platform this service knows, whose bodies name their channel as `room`: the
  // picker and the routed channels go by the envelope's capability, not by a platform's payload.
  const read = (): ReceivedWebhook => ({ events: [], recipient: '', ignored: 0, unusableUsers: [], orderingKey: '' });
  const envelope: Envelope<unknown> = { name: 'rooms', reader: () => read, routing: { key: 'room', routingKey: (raw) => raw.toString('utf8').split(':')[0] || undefined } };
  const dispatch = { envelope, modules: [], read };
  const endpoint = (channel: string, source: 'environment' | 'file', more: Partial<ConfiguredEndpoint> = {}): ConfiguredEndpoint => {
    const definition: EndpointDefinition = { channel, path: `/webhooks/${channel}`, signature: ENVIRONMENT_ENDPOINTS[0]!.signature, secret: ['S'], dispatch };
    return { definition, secret: undefined, verifyToken: undefined, forwardUrls: [], source, accounts: new Map(), ...more };
  };
  const own = endpoint('rooms', 'environment');
  const red = endpoint('red', 'file', { secret: 'red-secret', routingKey: 'R1' });
  const blue = endpoint('blue', 'file', { secret: 'blue-secret' });
  // A channel of another envelope (LINE's): not routed by this one.
  const other = { ...endpoint('other', 'file', { secret: 'x', routingKey: 'R2' }), definition: ENVIRONMENT_ENDPOINTS[0]! };

  it('routes the environment endpoint of its envelope to the channels file\'s channels of that envelope', () => {
    expect(channelsRoutedBy(own, [own, red, blue, other])).toEqual([red, blue]);
    expect(channelsRoutedBy(red, [own, red, blue, other])).toEqual([]);
  });

  it('chooses the secret by the envelope\'s routing key, and names that key when none covers it', () => {
    const picker = channelPicker(own, { byRoutingKey: new Map([['R1', red]]), anySecret: true });
    expect(picker.hasSecret).toBe(true);
    expect(picker.pick(Buffer.from('R1:hello'))).toBe(red);
    expect(picker.pick(Buffer.from('R9:hello'))).toBeUndefined();
    expect(picker.uncovered(Buffer.from('R9:hello'))).toBe('no channel\'s secret covers room "R9"');
    expect(picker.uncovered(Buffer.from(':hello'))).toBe('no channel\'s secret covers room (none)');
  });
});
