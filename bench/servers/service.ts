/**
 * The service under test, started exactly as `autotag serve` starts it
 * (`startServer` with the environment the benchmark passes), in its own process.
 */
import { startServer } from '../../src/server';
import { freePort } from '../../test/helpers/free-port';
import { runChild } from '../lib/run-child';

runChild(async () => {
  // PORT must be 1–65535: a free one, picked here, when the benchmark leaves it unset.
  const server = await startServer({ ...process.env, PORT: process.env.PORT ?? String(await freePort()) });
  return { port: server.port, stop: () => server.stop() };
});
