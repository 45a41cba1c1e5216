import net from 'node:net';

/**
 * A TCP port that is free right now, for a service started with `PORT` (which must be
 * 1–65535, CONTRACT.md: 0 is refused). The OS picks it; another process could take it
 * before the service binds, so callers that start a process retry on EADDRINUSE.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port was assigned'))));
    });
  });
}
