import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_SCHEMA, PUBLISHED_SCHEMAS, schemaText } from '../json-schemas';
import { processIo, type CommandIo } from './command-io';

/** The package's root, where `schemas/` is (dist/cli/ or src/cli/ → two levels up). */
const PACKAGE_ROOT = path.resolve(__dirname, '../..');

/**
 * `autotag schema [--<name>]`: prints a JSON Schema (draft-07) for editors,
 * the rule file's by default. `--write` writes every one to its file under
 * schemas/ instead (`npm run schemas`, after changing what the loader accepts).
 */
export function runSchema(opts: Record<string, boolean | undefined>, io: CommandIo, root = PACKAGE_ROOT): number {
  if (opts.write) {
    const named = PUBLISHED_SCHEMAS.filter((s) => opts[s.name]);
    if (named.length > 0) {
      io.stderr(`autotag schema: --write writes every schema; leave out ${named.map((s) => `--${s.name}`).join(', ')}\n`);
      return 1;
    }
    for (const schema of PUBLISHED_SCHEMAS) {
      const file = path.join(root, schema.file);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, schemaText(schema));
      io.stdout(`wrote ${schema.file}\n`);
    }
    return 0;
  }
  const chosen = PUBLISHED_SCHEMAS.filter((s) => opts[s.name]);
  if (chosen.length > 1) {
    io.stderr(`autotag schema: choose one of ${chosen.map((s) => `--${s.name}`).join(', ')}\n`);
    return 1;
  }
  const schema = chosen[0] ?? PUBLISHED_SCHEMAS.find((s) => s.name === DEFAULT_SCHEMA)!;
  io.stdout(schemaText(schema));
  return 0;
}

export function registerSchemaCommand(program: Command, io: CommandIo = processIo): void {
  const command = program
    .command('schema')
    .description('print the JSON Schema (draft-07) of a rule file, for editors (the same as schemas/rules.schema.json)');
  for (const schema of PUBLISHED_SCHEMAS) {
    if (schema.name !== DEFAULT_SCHEMA) command.option(`--${schema.name}`, `the schema of ${schema.describes}`);
  }
  command
    .option('--write', 'write every schema to its file under schemas/ instead of printing one')
    .action((opts: Record<string, boolean | undefined>) => {
      process.exitCode = runSchema(opts, io);
    });
}
