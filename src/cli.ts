#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerBotbonnieCommands } from './cli/botbonnie';
import { registerDeadLetters } from './cli/dead-letters';
import { registerHistory } from './cli/history';
import { registerMigrate } from './cli/migrate';
import { registerSchemaCommand } from './cli/schema';
import { registerServe } from './cli/serve';
import { registerStatus } from './cli/status';
import { registerTestCommand } from './cli/test-command';
import { registerValidateCommand } from './cli/validate';

/** The package version (package.json sits one folder above both src/ and dist/). */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * `autotag` — every command reads the same environment as `serve`.
 * Each command lives in its own module under `src/cli/` and registers itself here.
 * Registering loads no driver, no zod, no logger: each command imports what it
 * needs when it runs, so `--help` and `--version` answer at once.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('autotag')
    .description('Tags the people who talk to your chat bot, in MantaGo or BotBonnie, from YAML rules.')
    .version(packageVersion(), '-V, --version', 'print the package version')
    .showHelpAfterError()
    .exitOverride((err) => {
      // commander's own usage errors (unknown option, missing argument) exit 1, as bad arguments do everywhere here.
      process.exit(err.exitCode === 0 ? 0 : 1);
    });
  // COMMANDS: each module adds one command (or a group).
  registerServe(program);
  registerStatus(program);
  registerDeadLetters(program);
  registerHistory(program);
  registerMigrate(program);
  registerBotbonnieCommands(program);
  registerValidateCommand(program);
  registerTestCommand(program);
  registerSchemaCommand(program);
  return program;
}

if (require.main === module) {
  // A reader that went away (`autotag dead-letters list | head`) closes stdout: the command's
  // output is no longer wanted, which is not an error (an unhandled EPIPE crashed it with exit 1).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`autotag: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
