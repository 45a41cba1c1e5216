import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 (port 0) in front of the database, so a test can make
 * the database unreachable for one store — and bring it back — without touching
 * the shared server. While cut, open connections are dropped and new ones are
 * closed as soon as they arrive.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  /**
   * A silent network partition: nothing passes any more either way, yet no connection
   * closes (both ends' packets are still acknowledged), so neither side learns of it
   * from TCP. New connections are accepted and get nothing. Ends only with close().
   */
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let cut = false;
  let silent = false;
  const open = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; unlink: () => void }>();
  const track = (s: net.Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (cut) {
      client.destroy();
      return;
    }
    if (silent) {
      client.pause();
      return;
    }
    const upstream = net.connect(target);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // One end closing closes the other — until a silent partition, which carries no close either.
    const closeUpstream = () => upstream.destroy();
    const closeClient = () => client.destroy();
    client.on('close', closeUpstream);
    upstream.on('close', closeClient);
    pairs.add({ client, upstream, unlink: () => void (client.off('close', closeUpstream), upstream.off('close', closeClient)) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    cut() {
      cut = true;
      for (const s of open) s.destroy();
    },
    blackhole() {
      silent = true;
      for (const { client, upstream, unlink } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        // A process that gives up its connection (closes its socket) is not heard by the server either.
        unlink();
      }
    },
    restore() {
      cut = false;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
