import type { Command } from 'commander';
import { ConfigError } from '../config';

/** Heroku gives 30 s after SIGTERM, CONTRACT.md promises 10 s: leave a margin. */
const HARD_EXIT_MS = 9000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service (webhooks, rules, delivery) with the configuration in the environment')
    .action(async () => {
      // The server and everything it wires is loaded only by this command.
      const { startServer, StartupError } = await import('../server');
      let running;
      try {
        running = await startServer(process.env);
      } catch (err) {
        if (err instanceof StartupError || err instanceof ConfigError) {
          for (const line of err instanceof StartupError ? err.details : []) process.stderr.write(`${line}\n`);
          process.stderr.write(`autotag serve: ${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
      const server = running;
      let signalled = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) return;
        signalled = true;
        server.log.info('signal received', { signal });
        const hard = setTimeout(() => {
          server.log.error('shutdown took too long; exiting anyway (held leases expire after LEASE_MS)');
          process.exit(0);
        }, HARD_EXIT_MS);
        hard.unref();
        server.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            server.log.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
            process.exit(0);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}
