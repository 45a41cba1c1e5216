import type { Command } from 'commander';
import type { RunningServer } from '../server';

/** Heroku gives 30 s after SIGTERM, CONTRACT.md promises 10 s: leave a margin. */
const HARD_EXIT_MS = 9000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service (webhooks, rules, delivery) with the configuration in the environment')
    .action(async () => {
      // Signals are handled from the first moment: one that arrives while the service is
      // still starting stops it as soon as it is up.
      let server: RunningServer | undefined;
      let signalled: NodeJS.Signals | undefined;
      const shutdown = (s: RunningServer) => {
        s.log.info('signal received', { signal: signalled });
        const hard = setTimeout(() => {
          s.log.error('shutdown took too long; exiting anyway (held leases expire after LEASE_MS)');
          process.exit(0);
        }, HARD_EXIT_MS);
        hard.unref();
        s.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            s.log.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
            process.exit(0);
          },
        );
      };
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) return;
        signalled = signal;
        if (server) shutdown(server);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);

      // The server and everything it wires is loaded only by this command.
      const { startServer, StartupError } = await import('../server');
      const { ConfigError } = await import('../config');
      try {
        server = await startServer(process.env);
      } catch (err) {
        if (err instanceof StartupError || err instanceof ConfigError) {
          for (const line of err instanceof StartupError ? err.details : []) process.stderr.write(`${line}\n`);
          process.stderr.write(`autotag serve: ${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
      if (signalled) shutdown(server);
    });
}
