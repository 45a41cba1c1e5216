/**
 * The service under test, started exactly as `autotag serve` starts it
 * (`startServer` with the environment the benchmark passes), in its own process.
 */
import { startServer } from '../../src/server';
import { runChild } from '../lib/run-child';

runChild(async () => {
  const server = await startServer(process.env);
  return { port: server.port, stop: () => server.stop() };
});
