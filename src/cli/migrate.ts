import type { Command } from 'commander';
import type { MigrationReport } from '../store/migrations/migration';
import { processIo, withStore, type CommandIo } from './io';

/**
 * Brings the store's schema up to date and exits (Heroku's release phase runs it), saying which
 * steps it applied. `serve` migrates at start as well, under a lock, so this is optional.
 */
export async function runMigrate(env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  let report: MigrationReport | undefined;
  return withStore(
    'migrate',
    env,
    io,
    async (store) => {
      for (const step of report?.applied ?? []) io.stdout(`store (${store.engine}): applied step ${step.version} (${step.name})\n`);
      io.stdout(`store (${store.engine}) is up to date at schema version ${report?.version ?? '?'}\n`);
      return 0;
    },
    {
      create: true,
      // The release phase (Procfile) runs migrate: a deploy with a broken channels file fails there,
      // before any store step an older release cannot run beside, and the running release keeps serving.
      channelsFileProblems: 'error',
      onMigrated: (r) => {
        report = r;
      },
    },
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
