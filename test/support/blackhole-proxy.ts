/**
 * A loopback TCP proxy that can turn its open connections into black holes: after `cut()` they
 * stay open but nothing goes through them either way, as when a peer vanishes without a FIN
 * or RST (a host lost, a failover behind a virtual IP, a NAT entry dropped). The kernel then
 * keeps such a socket for many minutes. Connections made after the cut work.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface BlackholeProxy {
  /** `127.0.0.1:port`, to give PayFlux as REDIS_ADDR. */
  readonly addr: string;
  /** Make every connection open now a black hole. */
  cut(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(target: { host: string; port: number }): Promise<BlackholeProxy> {
  const open = new Set<[Socket, Socket]>();
  const holes: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    open.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no port');
  return {
    addr: `127.0.0.1:${address.port}`,
    cut() {
      for (const pair of open) {
        const [client, upstream] = pair;
        open.delete(pair);
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and discard what the client sends, so that its writes never fail; never answer.
        client.removeAllListeners('close');
        client.on('data', () => undefined);
        holes.push(client);
        upstream.removeAllListeners('close');
        upstream.removeAllListeners('error');
        upstream.on('error', () => undefined);
        upstream.destroy();
      }
    },
    async close() {
      for (const [client, upstream] of open) {
        client.destroy();
        upstream.destroy();
      }
      for (const h of holes) h.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
