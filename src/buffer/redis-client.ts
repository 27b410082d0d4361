/**
 * One way to make a Redis connection, standalone or Cluster: everything above this module sees
 * a `RedisClient` (ioredis's `Redis` or `Cluster`, which share the command API) and never asks
 * which. A Cluster client follows MOVED/ASK redirections and slot-map changes by itself; every
 * PayFlux script declares its keys, and every multi-key command stays within one partition's
 * hash tag, so no command crosses slots.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { backoffMs } from '../backoff.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  readonly url: string;
  /** Seed nodes (host:port) of a Cluster; empty = standalone at `url`. */
  readonly clusterNodes?: readonly string[];
  readonly password: string | undefined;
  readonly tls: boolean;
  /** REDIS_SOCKET_TIMEOUT_MS: drop a connection whose commands got no answer for this long; 0 = never. */
  readonly socketTimeoutMs?: number;
}

export function redisOptions(o: Pick<RedisClientOptions, 'password' | 'tls' | 'socketTimeoutMs'>): RedisOptions {
  return {
    password: o.password,
    tls: o.tls ? {} : undefined,
    // ioredis destroys the socket when commands wait this long with no byte back, reconnects,
    // and re-sends them on the new connection. A command Redis had received runs twice when
    // Redis itself stalled that long: the buffer's commands are safe to run twice (the append's
    // dedup, the dead-letter and replay scripts skip what is done, acks, trims and the purge
    // are idempotent), and so are the side connection's, but for the few docs/operations.md lists.
    // (Not on the blocking reader: see redis-reader.ts.)
    socketTimeout: o.socketTimeoutMs !== undefined && o.socketTimeoutMs > 0 ? o.socketTimeoutMs : undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Back off to at most 2 s between reconnect attempts; never give up.
    retryStrategy: (times) => backoffMs(times, 100, 2000),
    connectionName: 'payflux',
  };
}

function clusterOptions(base: RedisOptions): ClusterOptions {
  // The Cluster client owns reconnects and queueing; each node connection takes the rest.
  const { retryStrategy: _retry, enableOfflineQueue: _queue, ...node } = base;
  return {
    redisOptions: { ...node, lazyConnect: false },
    lazyConnect: true,
    // Commands wait for the slot map while a failover or reshard is under way (bounded by the
    // append's own timeout), rather than failing at once on a node that is going away.
    enableOfflineQueue: true,
    clusterRetryStrategy: (times) => backoffMs(times, 100, 2000),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshTimeout: 2000,
    scaleReads: 'master',
  };
}

/** A client, not yet connected (`connect()` it). */
export function createRedisClient(o: RedisClientOptions, overrides: Partial<RedisOptions> = {}): RedisClient {
  const base: RedisOptions = { ...redisOptions(o), ...overrides };
  const nodes = o.clusterNodes ?? [];
  if (nodes.length === 0) return new Redis(o.url, base);
  return new Cluster(nodes.map(hostPort), clusterOptions(base));
}

/**
 * Another connection to the same Redis (a dedicated blocking reader), with `overrides`. A
 * Cluster copy keeps the Cluster's offline queue whatever `overrides` say: without it, the
 * ready check that follows the slot map (CLUSTER INFO to any node) fails on a node connection
 * still being made, and the client reconnects in a loop of its own (see `connectClient`).
 */
export function duplicateClient(client: RedisClient, overrides: Partial<RedisOptions>): RedisClient {
  if (client instanceof Cluster) {
    const { retryStrategy: _retry, enableOfflineQueue: _queue, ...node } = overrides;
    return client.duplicate(undefined, {
      ...client.options,
      redisOptions: { ...client.options.redisOptions, ...node },
    });
  }
  return client.duplicate(overrides);
}

/**
 * Connect; settles once the client is ready, or with the attempt's error. ioredis's
 * `Cluster.connect()` never settles when its ready check fails (a node connection not up yet,
 * or `cluster_state:fail` in a failover): the Cluster reconnects by itself and the promise of
 * the retry that succeeds is not the one returned. So a Cluster is ready at its `ready` event.
 */
export function connectClient(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster)) return client.connect();
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: Error): void => {
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onReady = (): void => settle();
    const onEnd = (): void => settle(new Error('Connection is closed.'));
    client.once('ready', onReady);
    client.once('end', onEnd);
    client.connect().then(onReady, (err: unknown) => settle(err as Error));
  });
}

/** Whether commands can be sent now. */
export function isReady(client: RedisClient): boolean {
  return client.status === 'ready';
}

/** Every master of a Cluster (one node for a standalone client), for per-node commands. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

function hostPort(node: string): { host: string; port: number } {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(node.slice(i + 1)) };
}

/**
 * `name` as a hash tag on a Cluster (`{name}`: every key built on it shares one slot, so a
 * script over them runs there), and as it is on a standalone Redis, whose key names stay those
 * of existing deployments.
 */
export function slotScoped(client: RedisClient, name: string): string {
  return client instanceof Cluster ? `{${name}}` : name;
}

/** A hash tag `{name}` on a Cluster, nothing on a standalone Redis (key names unchanged there). */
export function clusterTag(client: RedisClient, name: string): string {
  return client instanceof Cluster ? `{${name}}` : '';
}
