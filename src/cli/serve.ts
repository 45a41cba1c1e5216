import type { Command } from 'commander';
import type { RunningServer } from '../server';
import { SHUTDOWN_HARD_EXIT_MS as HARD_EXIT_MS } from '../shutdown-times';
/**
 * A signal during start-up waits this long for the start to finish (then the service stops as
 * usual); a start still under way then (a database that does not answer) is given up: nothing
 * is held yet, and the exit is 0 as for any stop asked for.
 */
const STARTUP_SIGNAL_WAIT_MS = 3000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service (webhooks, rules, delivery) with the configuration in the environment')
    .action(async () => {
      // Signals are handled from the first moment: one that arrives while the service is
      // still starting stops it as soon as it is up.
      let server: RunningServer | undefined;
      let signalled: NodeJS.Signals | undefined;
      let signalledAt = 0;
      const shutdown = (s: RunningServer) => {
        s.log.info('signal received', { signal: signalled });
        // Counted from the signal: one that came during start-up has spent some of it already.
        const hard = setTimeout(() => {
          s.log.error('shutdown took too long; exiting anyway (a lease still held expires after LEASE_MS)');
          process.exit(0);
        }, Math.max(0, HARD_EXIT_MS - (Date.now() - signalledAt)));
        hard.unref();
        s.stop({ signalledAt }).then(
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
        signalledAt = Date.now();
        if (server) {
          shutdown(server);
          return;
        }
        setTimeout(() => {
          if (server) return;
          process.stderr.write(`autotag serve: ${signal} during start-up, which had not finished after ${STARTUP_SIGNAL_WAIT_MS / 1000} s more; stopped without starting\n`);
          process.exit(0);
        }, STARTUP_SIGNAL_WAIT_MS).unref();
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
          // Asked to stop while starting: the failed start ends that stop, not a failure of its own.
          if (signalled) process.stderr.write(`autotag serve: ${signalled} during start-up; stopped without starting\n`);
          process.exit(signalled ? 0 : 1);
        }
        throw err;
      }
      if (signalled) shutdown(server);
    });
}
