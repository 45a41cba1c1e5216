import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { allFixtures } from './fixtures';
import { readLine } from './read-webhook';
import { checkAgainst, schemaRef, type OpenApiDocument } from './openapi-check';

/*
 * LINE's own OpenAPI description of the webhook (line/line-openapi webhook.yml) lists
 * every event, message and source type LINE can send. Every one of them must have a
 * fixture, every fixture must have LINE's format, and the adapter must understand it.
 */
const SPEC_PATH = path.join(__dirname, '..', '..', 'fixtures', 'reference', 'line-webhook.yml');
const spec = parseYaml(readFileSync(SPEC_PATH, 'utf8')) as OpenApiDocument;

function mappingKeys(schemaName: string): string[] {
  const mapping = spec.components.schemas[schemaName]?.discriminator?.mapping;
  if (mapping === undefined) throw new Error(`${schemaName} has no discriminator mapping in ${SPEC_PATH}`);
  return Object.keys(mapping);
}

interface RawEvent {
  type: string;
  source?: { type: string };
  message?: { type: string };
}

const fixtures = allFixtures('line').map(([name, raw]) => ({
  name,
  raw,
  json: JSON.parse(raw.toString('utf8')) as { events: RawEvent[] },
}));

describe("LINE's webhook description", () => {
  it('lists the event, message and source types this test expects to find', () => {
    expect(mappingKeys('Event')).toEqual(expect.arrayContaining(['message', 'postback', 'follow', 'unfollow', 'memberJoined', 'delivery']));
    expect(mappingKeys('MessageContent')).toEqual(expect.arrayContaining(['text', 'image', 'sticker']));
    expect(mappingKeys('Source')).toEqual(['user', 'group', 'room']);
  });

  it.each(mappingKeys('Event'))('event type %s has a fixture that the adapter understands', (type) => {
    const withType = fixtures.filter((f) => f.json.events.some((e) => e.type === type));
    expect(withType.map((f) => f.name)).not.toEqual([]);
    for (const f of withType) {
      const body = readLine(f.raw);
      expect(body.ignored).toBe(0);
      const events = body.events;
      expect(events.filter((e) => e.type === type || e.type.startsWith(`${type}/`)).length).toBe(f.json.events.filter((e) => e.type === type).length);
    }
  });

  it.each(mappingKeys('MessageContent'))('message type %s has a fixture that becomes a message event', (type) => {
    const withType = fixtures.filter((f) => f.json.events.some((e) => e.type === 'message' && e.message?.type === type));
    expect(withType.map((f) => f.name)).not.toEqual([]);
    for (const f of withType) {
      const events = readLine(f.raw).events;
      expect(events.some((e) => e.kind === 'message' && e.type === `message/${type}`)).toBe(true);
    }
  });

  it.each(mappingKeys('Source'))('source type %s appears in a fixture', (type) => {
    expect(fixtures.some((f) => f.json.events.some((e) => e.source?.type === type))).toBe(true);
  });

  it('every fixture has the format the description gives (required fields, types, enums)', () => {
    const callback = schemaRef(spec, '#/components/schemas/CallbackRequest');
    const problems = fixtures.flatMap((f) => checkAgainst(spec, callback, f.json).map((p) => `${f.name}: ${p}`));
    // The one fixture of a payload from before webhook redelivery (2021) lacks exactly what was added since.
    expect(problems).toEqual([
      'old-style-without-event-id: $.events[0]: missing required mode',
      'old-style-without-event-id: $.events[0]: missing required webhookEventId',
      'old-style-without-event-id: $.events[0]: missing required deliveryContext',
      'old-style-without-event-id: $.events[0].message: missing required quoteToken',
    ]);
  });

  it('the format check does find departures from the description', () => {
    const callback = schemaRef(spec, '#/components/schemas/CallbackRequest');
    const broken = {
      destination: 'not-a-user-id',
      events: [
        { type: 'message', timestamp: 1, mode: 'active', deliveryContext: { isRedelivery: false }, message: { type: 'text', id: '1', quoteToken: 'q' } },
        { type: 'beacon', timestamp: 1, mode: 'sleeping', webhookEventId: 'E', deliveryContext: { isRedelivery: false }, replyToken: 'r', beacon: { hwid: 'h', type: 'leave' } },
      ],
    };
    expect(checkAgainst(spec, callback, broken)).toEqual([
      '$.destination: does not match ^U[0-9a-f]{32}$',
      '$.destination: shorter than 33',
      '$.events[0]: missing required webhookEventId',
      '$.events[0].message: missing required text',
      '$.events[1].mode: "sleeping" is not one of ["active","standby"]',
      '$.events[1].beacon.type: "leave" is not one of ["enter","banner","stay"]',
    ]);
  });
});
