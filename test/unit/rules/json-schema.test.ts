import Ajv, { type ValidateFunction } from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PUBLISHED_SCHEMAS, schemaText } from '../../../src/json-schemas';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { bufferIo } from '../../cli/cli-run';
import { runSchema } from '../../../src/cli/schema';
import { ROOT } from './fixtures';

/**
 * The JSON Schema editors use for rule files, checked with a real JSON Schema
 * validator (Ajv, draft-07) against what the loader itself says about the same
 * files. Files are read as an editor reads them (YAML 1.2 core types: `00123` is
 * a number), not as the loader does (every scalar as written).
 */
const SCHEMA_FILE = 'schemas/rules.schema.json';

function validator(): ValidateFunction {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8')) as object;
  // allowUnionTypes: "a string, number, boolean or null" is how a scalar taken as written reads to an editor.
  return new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);
}

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .sort();
}

const loaderProblems = (text: string) => parseRuleFile(text, 'file.yaml').problems.map((p) => p.message);

describe('the published JSON Schemas are up to date', () => {
  it.each(PUBLISHED_SCHEMAS.map((s) => [s.file, s] as const))('%s is what the loader\'s zod definitions make now', (file, schema) => {
    const committed = fs.existsSync(path.join(ROOT, file)) ? fs.readFileSync(path.join(ROOT, file), 'utf8') : '(missing)';
    if (committed !== schemaText(schema)) {
      throw new Error(`${file} is stale: it is not what the zod definitions of the loader make now. Run \`npm run schemas\` and commit ${file}.`);
    }
  });

  it.each(PUBLISHED_SCHEMAS.map((s) => [s.file] as const))('%s holds only patterns that work without a Unicode-mode regex engine (Python jsonschema, JavaScript without `u`)', (file) => {
    const patterns: string[] = [];
    JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'), (key, value: unknown) => {
      if (key === 'pattern' && typeof value === 'string') patterns.push(value);
      return value;
    });
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) {
      expect(p).not.toMatch(/\\[pP]\{/);
      // Compiles, and means the same, with and without the `u` flag.
      for (const t of ['coupon', '優惠券-1', 'a_b', 'a b', 'a.b', 'mon', 'MON']) expect([p, t, new RegExp(p).test(t)]).toEqual([p, t, new RegExp(p, 'u').test(t)]);
    }
  });

  it('the rule id pattern takes what the loader takes (letters and digits of any script, "-", "_") and refuses ASCII punctuation and spaces', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8')) as { definitions: { rule: { properties: { id: { pattern: string } } } } };
    const id = new RegExp(schema.definitions.rule.properties.id.pattern);
    const loaderTakes = (value: string) => !loaderProblems(`rules:\n  - id: ${JSON.stringify(value)}\n    when: { text: x }\n    then: [ { add_tag: t, provider: mantago } ]\n`).some((m) => m.includes('an id holds only'));
    for (const ok of ['coupon', '優惠券-1', 'double_12', 'é2', 'Привет']) expect([ok, id.test(ok), loaderTakes(ok)]).toEqual([ok, true, true]);
    for (const bad of ['a b', 'a.b', 'a/b', 'a:b', 'a{b}', 'a\tb', '']) expect([bad, id.test(bad)]).toEqual([bad, false]);
  });

  it('`autotag schema` prints the rule file\'s schema, as committed', () => {
    const io = bufferIo();
    expect(runSchema({}, io)).toBe(0);
    expect(io.out).toBe(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8'));
    expect(JSON.parse(io.out)).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', required: ['rules'] });
  });

  it('every example rule file names the schema on its first line, by a path that leads to it', () => {
    const files = yamlFiles('rules');
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const expected = path.relative(path.dirname(file), SCHEMA_FILE).split(path.sep).join('/');
      const first = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')[0];
      expect([file, first]).toEqual([file, `# yaml-language-server: $schema=${expected}`]);
      expect(fs.existsSync(path.resolve(ROOT, path.dirname(file), expected))).toBe(true);
    }
  });
});

describe('the rule file schema agrees with the loader', () => {
  const validate = validator();
  const accepts = (value: unknown) => {
    const ok = validate(value);
    return ok ? 'valid' : JSON.stringify(validate.errors?.slice(0, 3));
  };

  it('accepts every rule file in the repository that the loader accepts, read as an editor reads it', () => {
    const files = [...yamlFiles('rules'), ...yamlFiles('test/fixtures/rules')];
    const valid = files.filter((f) => loaderProblems(fs.readFileSync(path.join(ROOT, f), 'utf8')).length === 0);
    // The examples users start from, and every fixture meant to be valid (the scalars one included: 00123, yes, null).
    expect(valid).toEqual(expect.arrayContaining(['rules/coupon.yaml', 'rules/campaigns/double-12.yaml', 'test/fixtures/rules/scalars/rules.yaml']));
    expect(valid.length).toBeGreaterThanOrEqual(15);
    for (const file of valid) expect([file, accepts(parse(fs.readFileSync(path.join(ROOT, file), 'utf8')))]).toEqual([file, 'valid']);
  });

  it('rejects every fixture in which the loader finds an unknown key', () => {
    const files = yamlFiles('test/fixtures/rules').filter((f) => {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      return loaderProblems(text).some((m) => m.startsWith('unknown key '));
    });
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) expect([file, validate(parse(fs.readFileSync(path.join(ROOT, file), 'utf8')))]).toEqual([file, false]);
  });

  const BASE = { defaults: { provider: 'mantago' }, rules: [{ id: 'r', when: { text: { contains: 'a' } }, then: [{ add_tag: 't' }] }] };
  const withKey = (mutate: (file: { defaults: Record<string, unknown>; rules: Record<string, unknown>[] }) => void) => {
    const file = structuredClone(BASE) as unknown as { defaults: Record<string, unknown>; rules: Record<string, unknown>[] };
    mutate(file);
    return file;
  };
  const rule = (f: { rules: Record<string, unknown>[] }) => f.rules[0]!;
  const when = (f: { rules: Record<string, unknown>[] }) => rule(f).when as Record<string, unknown>;

  it.each([
    ['the top level', 'rule', (f: ReturnType<typeof withKey>) => void ((f as unknown as Record<string, unknown>).rule = [])],
    ['defaults', 'provder', (f: ReturnType<typeof withKey>) => void (f.defaults.provder = 'mantago')],
    ['a rule', 'prority', (f: ReturnType<typeof withKey>) => void (rule(f).prority = 1)],
    ['when', 'plattform', (f: ReturnType<typeof withKey>) => void (when(f).plattform = 'line')],
    ['text', 'contians', (f: ReturnType<typeof withKey>) => void (when(f).text = { contians: 'a' })],
    ['postback', 'equal', (f: ReturnType<typeof withKey>) => void (when(f).postback = { equal: 'x' })],
    ['schedule', 'day', (f: ReturnType<typeof withKey>) => void (when(f).schedule = { day: 'mon' })],
    ['a nested when', 'evnt', (f: ReturnType<typeof withKey>) => void (when(f).any = [{ evnt: 'message' }])],
    ['an action', 'add_tags', (f: ReturnType<typeof withKey>) => void (rule(f).then = [{ add_tag: 't', add_tags: 'u' }])],
    ['an example', 'expects', (f: ReturnType<typeof withKey>) => void (rule(f).examples = [{ text: 'a', expect: 'match', expects: 'match' }])],
  ])('an unknown key in %s (%s) is refused by both', (_where, key, mutate) => {
    expect(accepts(BASE)).toBe('valid');
    const file = withKey(mutate);
    expect(loaderProblems(JSON.stringify(file))).toEqual([expect.stringMatching(new RegExp(`^unknown key "${key}" in `))]);
    expect(validate(file)).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: key } }));
  });

  it('takes a scalar as the loader does: a number, a boolean or null where text is expected, any-case day names', () => {
    const text = [
      'defaults: { provider: mantago }',
      'rules:',
      '  - id: 007',
      '    when: { text: { equals: [yes, 12, true, null] }, postback: 0012, schedule: { days: [Mon, tue, SUN] } }',
      '    then: [{ add_tag: 00123 }, { remove_tag: false }]',
      '    examples: [{ text: 12, data: 3, expect: no_match }]',
    ].join('\n');
    expect(loaderProblems(text)).toEqual([]);
    const editorView = parse(text) as { rules: { then: { add_tag?: unknown }[] }[] };
    expect(editorView.rules[0]!.then[0]!.add_tag).toBe(123);
    expect(accepts(editorView)).toBe('valid');
  });

  it('rejects a value of the wrong kind, as the loader does', () => {
    for (const [snippet, message] of [
      ['when: { platform: tiktok }', /^unknown platform "tiktok"/],
      ['when: { event: [message, sticker] }', /^unknown event "sticker"/],
      ['when: { text: { case_sensitive: maybe } }', /must be true or false/],
      ['when: { text: { contains: [] } }', /must not be an empty list/],
      ['when: { any: [] }', /must not be an empty list/],
      ['priority: high\n    when: {}', /must be a whole number/],
    ] as const) {
      const text = `defaults: { provider: mantago }\nrules:\n  - id: r\n    ${snippet}\n    then: [{ add_tag: t }]\n`;
      expect([snippet, loaderProblems(text)]).toEqual([snippet, [expect.stringMatching(message)]]);
      expect([snippet, validate(parse(text))]).toEqual([snippet, false]);
    }
  });
});

describe('the contract\'s reference rule (CONTRACT.md, "Rule files")', () => {
  const file = 'test/fixtures/rules-schema/contract-reference.yaml';
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  /**
   * Keys the contract has that the loader does not take yet, each added by its own issue
   * (none now). Whoever adds one removes it here: the loader then
   * stops reporting it, and this test says so.
   */
  const PENDING: { path: (string | number)[]; key: string }[] = [];

  it('is valid to the loader except for the keys still pending', () => {
    expect(loaderProblems(text)).toEqual(PENDING.map(({ key }) => expect.stringMatching(new RegExp(`^unknown key "${key}" in `))));
  });

  it('is valid to the schema once those keys are taken out, and refused with them', () => {
    const validate = validator();
    const value = parse(text) as Record<string, unknown>;
    // With nothing pending, the reference rule is valid as it stands.
    expect(validate(value)).toBe(PENDING.length === 0);
    for (const { path: at, key } of PENDING) {
      const holder = at.reduce<unknown>((node, segment) => (node as Record<string | number, unknown>)[segment], value) as Record<string, unknown>;
      expect(holder).toHaveProperty(key);
      delete holder[key];
    }
    expect(validate(value) ? 'valid' : JSON.stringify(validate.errors)).toBe('valid');
  });
});
