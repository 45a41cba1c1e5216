import type { JsonSchema } from './rules/json-schema';

/**
 * The JSON Schemas the project publishes for editors, one per kind of file.
 * `autotag schema` prints the default one, `autotag schema --<name>` another,
 * `autotag schema --write` (`npm run schemas`) writes them all, and a test
 * fails when a committed file differs from what its `build` makes now.
 * A new kind of file (the channels file, say) is one more entry here.
 */
export interface PublishedSchema {
  /** Names the `--<name>` option of `autotag schema`. */
  name: string;
  /** What it describes, for `--help`. */
  describes: string;
  /** Relative to the repository root. */
  file: string;
  build: () => JsonSchema;
}

export const PUBLISHED_SCHEMAS: readonly PublishedSchema[] = [
  {
    name: 'rules',
    describes: 'a rule file',
    file: 'schemas/rules.schema.json',
    // Loaded when a schema is built, not when the command line is: `autotag --help` stays free of zod.
    build: () => (require('./rules/json-schema') as typeof import('./rules/json-schema')).ruleFileJsonSchema(),
  },
];

/** What `autotag schema` prints without an option. */
export const DEFAULT_SCHEMA = 'rules';

/** The file's text: two-space JSON and a final newline, as editors and git like it. */
export function schemaText(schema: PublishedSchema): string {
  return `${JSON.stringify(schema.build(), null, 2)}\n`;
}
