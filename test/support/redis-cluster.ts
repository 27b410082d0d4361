/**
 * A real Redis Cluster for integration tests: 3 masters + 3 replicas, each a `redis-server
 * --cluster-enabled yes` on a free loopback port in its own directory, joined by `redis-cli
 * --cluster create … --cluster-replicas 1 --cluster-yes`, ready once every node says
 * `cluster_state:ok`. One per test file (`useRedisCluster()`), killed after it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { freePort, testPrefix } from './redis-server.js';
import { poll } from './poll.js';

const run = promisify(execFile);

export interface ClusterNode {
  readonly port: number;
  readonly addr: string;
  /** SIGKILL the node (a master failure). */
  kill(): void;
  /**
   * Start a killed node again on its port and directory: its nodes.conf makes it rejoin, as a
   * replica of whoever took its slots over meanwhile. Resolves once it is in sync.
   */
  restart(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** REDIS_CLUSTER_NODES form: every node's host:port. */
  readonly seeds: string;
  /** The node currently serving `slot` as master. */
  masterOf(slot: number): Promise<ClusterNode>;
  /** Move `slot` (and its keys) to another master, the way `redis-cli --cluster reshard` does. */
  moveSlot(slot: number): Promise<{ from: ClusterNode; to: ClusterNode }>;
  close(): Promise<void>;
}

async function clusterInfo(port: number, what: 'cluster' | 'replication' = 'cluster'): Promise<string> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return what === 'cluster' ? await r.cluster('INFO') : await r.info('replication');
  } finally {
    r.disconnect();
  }
}

export async function startRedisCluster(o: { masters?: number; replicas?: number } = {}): Promise<RedisCluster> {
  const count = (o.masters ?? 3) * (1 + (o.replicas ?? 1));
  const dir = mkdtempSync(join(tmpdir(), 'payflux-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const startNode = (port: number): ChildProcess => {
    const nodeDir = join(dir, String(port));
    return spawn(
      'bash',
      [
        '-c',
        `mkdir -p ${nodeDir} && exec redis-server --port ${port} --bind 127.0.0.1 --cluster-enabled yes ` +
          `--cluster-config-file nodes.conf --cluster-node-timeout 5000 --dir ${nodeDir} --save '' ` +
          `--appendonly no --repl-diskless-sync-delay 0 --daemonize no --loglevel warning`,
      ],
      { stdio: 'ignore' },
    );
  };
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    ports.push(port);
    children.push(startNode(port));
  }
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  try {
    const infoOf = (port: number): Promise<string> => clusterInfo(port).catch(() => '');
    for (const port of ports)
      await poll(
        `node ${port} up`,
        () => infoOf(port),
        (i) => i !== '',
        { timeoutMs: 10_000 },
      );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(o.replicas ?? 1),
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    for (const port of ports)
      await poll(
        `node ${port} cluster_state:ok`,
        () => infoOf(port),
        (i) => i.includes('cluster_state:ok'),
        {
          timeoutMs: 30_000,
        },
      );
    // Every node agrees on the slot map, so that no client starts from a stale one.
    await poll(
      'the nodes agree on the slots',
      () =>
        run('redis-cli', ['--cluster', 'check', `127.0.0.1:${ports[0]}`], { timeout: 10_000 }).then(
          (r) => r.stdout,
          () => '',
        ),
      (out) => out.includes('All nodes agree about slots configuration') && out.includes('All 16384 slots covered'),
      { timeoutMs: 30_000, everyMs: 200 },
    );
    // Every replica in sync, so that WAIT and a failover have someone to count on.
    const synced = async (port: number): Promise<boolean> => {
      const info = await clusterInfo(port, 'replication').catch(() => '');
      return info.includes('role:master') ? /slave0:.*state=online/.test(info) : info.includes('master_link_status:up');
    };
    for (const port of ports)
      await poll(`node ${port} replication`, () => synced(port), Boolean, { timeoutMs: 30_000 });
  } catch (err) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const nodes: ClusterNode[] = ports.map((port, i) => ({
    port,
    addr: `127.0.0.1:${port}`,
    kill: () => children[i]?.kill('SIGKILL'),
    async restart() {
      const old = children[i];
      if (old !== undefined && old.exitCode === null && old.signalCode === null)
        await new Promise((r) => old.once('exit', r));
      children[i] = startNode(port);
      await poll(
        `node ${port} back in sync`,
        () => clusterInfo(port, 'replication').catch(() => ''),
        (info) => info.includes('master_link_status:up'),
        { timeoutMs: 30_000 },
      );
    },
  }));
  const masterOf = async (slot: number): Promise<ClusterNode> => {
    // Asked of every live node in turn: one of them may have been killed.
    for (let i = 0; i < children.length; i++) {
      if (children[i]?.exitCode !== null || children[i]?.signalCode !== null) continue;
      const r = new Redis({ port: ports[i], host: '127.0.0.1', maxRetriesPerRequest: 0 });
      r.on('error', () => undefined);
      try {
        const slots = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
        const owner = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
        const node = nodes.find((n) => n.port === owner?.[2][1]);
        if (node !== undefined) return node;
      } catch {
        // the next node
      } finally {
        r.disconnect();
      }
    }
    throw new Error(`no master for slot ${slot}`);
  };
  return {
    nodes,
    seeds: nodes.map((n) => n.addr).join(','),
    masterOf,
    async moveSlot(slot) {
      const from = await masterOf(slot);
      const client = (port: number): Redis => new Redis({ port, host: '127.0.0.1' });
      const src = client(from.port);
      const others: Redis[] = [];
      try {
        const idOf = async (r: Redis): Promise<string> => String(await r.cluster('MYID'));
        const masters = String(await src.call('CLUSTER', 'NODES'))
          .split('\n')
          .filter((l) => l.includes('master') && !l.includes('fail'));
        const target = masters.map((l) => l.split(' ')).find((f) => !f[2]?.includes('myself'));
        const toPort = Number(target?.[1]?.split(':')[1]?.split('@')[0]);
        const to = nodes.find((n) => n.port === toPort);
        if (to === undefined || target === undefined) throw new Error('no other master to move the slot to');
        const dst = client(to.port);
        others.push(dst);
        const srcId = await idOf(src);
        const dstId = target[0] ?? '';
        await dst.cluster('SETSLOT', slot, 'IMPORTING', srcId);
        await src.cluster('SETSLOT', slot, 'MIGRATING', dstId);
        for (;;) {
          const keys = await src.cluster('GETKEYSINSLOT', slot, 100);
          if (keys.length === 0) break;
          await src.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
        }
        for (const n of masters) {
          const port = Number(n.split(' ')[1]?.split(':')[1]?.split('@')[0]);
          const r = client(port);
          others.push(r);
          await r.cluster('SETSLOT', slot, 'NODE', dstId);
        }
        return { from, to };
      } finally {
        src.disconnect();
        for (const r of others) r.disconnect();
      }
    },
    async close() {
      kill();
      await Promise.all(
        children.map((c) =>
          c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve(),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterSuite {
  readonly cluster: RedisCluster;
  /** A Cluster client for setting up and inspecting keys. */
  readonly redis: Cluster;
  /** A fresh random key prefix per test. */
  readonly prefix: string;
}

/** One cluster for the test file, a client on it, a fresh key prefix per test. */
export function useRedisCluster(): ClusterSuite {
  let cluster: RedisCluster | undefined;
  let redis: Cluster | undefined;
  let prefix = testPrefix();
  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    redis.on('error', () => undefined);
  }, 90_000);
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.close();
  });
  beforeEach(() => {
    prefix = testPrefix();
  });
  return {
    get cluster() {
      if (cluster === undefined) throw new Error('useRedisCluster: used before beforeAll');
      return cluster;
    },
    get redis() {
      if (redis === undefined) throw new Error('useRedisCluster: used before beforeAll');
      return redis;
    },
    get prefix() {
      return prefix;
    },
  };
}
