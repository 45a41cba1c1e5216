import Ajv from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseChannelsFile } from '../../../src/channels/parse-channels-file';
import { ROOT } from '../rules/fixtures';

/**
 * The JSON Schema editors use for the channels file (schemas/channels.schema.json, kept
 * up to date by the test of every published schema), checked with a real validator
 * against what the loader says about the same files.
 */
const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(
  JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/channels.schema.json'), 'utf8')) as object,
);
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
/** Every variable is set, so only the file's own form counts. */
const everyVariable = new Proxy({}, { get: () => 'set' }) as NodeJS.ProcessEnv;
const loaderProblems = (text: string) => parseChannelsFile(text, 'channels.yaml', everyVariable, 'error').problems.map((p) => p.message);

describe('the channels file schema agrees with the loader', () => {
  it('accepts channels.example.yaml, which names the schema on its first line', () => {
    const text = read('channels.example.yaml');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=schemas/channels.schema.json');
    expect(loaderProblems(text)).toEqual([]);
    expect(validate(parse(text)) ? 'valid' : JSON.stringify(validate.errors)).toBe('valid');
  });

  it('refuses what the loader refuses for its form: an unknown key, a literal secret, a missing key, an unknown platform', () => {
    for (const [snippet, message] of [
      ['accounts: { a: { provider: botbonnie, token: "${T}", tokn: x } }', /^unknown key "tokn"/],
      ['accounts: { a: { provider: botbonnie, token: literal } }', /^a literal secret is not allowed/],
      ['channels: [{ id: c, platform: line }]', /^missing required key "secret"/],
      ['channels: [{ id: c, platform: telegram, secret: "${S}" }]', /^unknown platform "telegram"/],
      ['channels: [{ id: "c d", platform: line, secret: "${S}" }]', /^an id holds only letters/],
    ] as const) {
      expect([snippet, loaderProblems(snippet)]).toEqual([snippet, [expect.stringMatching(message)]]);
      expect([snippet, validate(parse(snippet))]).toEqual([snippet, false]);
    }
  });
});
