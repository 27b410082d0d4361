/**
 * The leader lease: work done once per cluster (retention trimming, idle-consumer cleanup,
 * alert delivery) runs on the one node holding it. Every node tries every third of the TTL:
 * the holder extends it, anyone takes it once it lapsed (a dead leader's work moves within the
 * TTL). Between two checks a node may briefly believe it still leads after losing the lease;
 * every such job is safe to run twice (trims and cleanups are idempotent scripts, alert delivery
 * claims each alert under its own lease in Redis), so the lease only keeps the work from being
 * done N times over, not from ever overlapping.
 */
import type { Logger } from 'pino';
import type { RedisClient } from './redis-client.js';
import { luaScript, runScript } from './redis-script.js';

/** KEYS[1] the lease; ARGV[1] this node, ARGV[2] TTL ms. 1 when this node holds it afterwards. */
const LEAD_SCRIPT = luaScript<number>(
  'lead',
  `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
`,
);

export interface LeaderLease {
  /** Whether this node held the lease at its last check. */
  isLeader(): boolean;
  stop(): Promise<void>;
}

export function startLeaderLease(o: {
  readonly redis: RedisClient;
  readonly key: string;
  readonly name: string;
  readonly ttlMs: number;
  readonly logger: Logger;
}): LeaderLease {
  let leader = false;
  let running: Promise<void> | undefined;
  const check = async (): Promise<void> => {
    const now = (await runScript(o.redis, LEAD_SCRIPT, [o.key], [o.name, o.ttlMs])) === 1;
    if (now !== leader) o.logger.info({ node: o.name }, now ? 'leader_lease_acquired' : 'leader_lease_lost');
    leader = now;
  };
  const tick = (): void => {
    if (running !== undefined || o.redis.status !== 'ready') return;
    running = check()
      .catch((err: unknown) => {
        leader = false;
        o.logger.debug({ err: (err as Error).message }, 'leader_lease_check_failed');
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, Math.max(100, Math.floor(o.ttlMs / 3)));
  timer.unref();
  tick();
  return {
    isLeader: () => leader,
    async stop() {
      clearInterval(timer);
      await running;
      // Hand it on at once rather than after the TTL.
      if (leader)
        await o.redis
          .eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
            1,
            o.key,
            o.name,
          )
          .catch(() => undefined);
      leader = false;
    },
  };
}
