/*
 * The time limits of a shutdown, counted from the signal (cli/serve.ts, server.ts). Its own
 * module: `serve` reads it before the server's code is loaded.
 */

/** Heroku gives 30 s after SIGTERM, CONTRACT.md promises 10 s: after this, `serve` exits whatever is left. */
export const SHUTDOWN_HARD_EXIT_MS = 9000;
