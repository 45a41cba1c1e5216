import type { Command } from 'commander';
import { processIo, withStore, type CommandIo } from './io';

/**
 * Brings the store's schema up to date and exits (Heroku's release phase runs it).
 * `serve` migrates at start as well, under a lock, so this is optional.
 */
export async function runMigrate(env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  return withStore(
    env,
    io,
    async (store) => {
      io.stdout(`store (${store.engine}) is up to date\n`);
      return 0;
    },
    { create: true },
  );
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the store schema, then exit (also done by serve at start)')
    .action(async () => {
      process.exitCode = await runMigrate(process.env, processIo);
    });
}
