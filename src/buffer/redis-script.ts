/**
 * The one way PayFlux defines and runs a Lua script: EVALSHA, and the script's text once on
 * NOSCRIPT (ioredis's `defineCommand` does both), with its keys declared so that Redis Cluster
 * routes it to their slot.
 *
 * Arguments may be arrays: ioredis flattens them into the command, so a call with 100k
 * arguments never spreads them onto the JavaScript stack.
 */
import type { Cluster, Redis } from 'ioredis';

export type ScriptArg = string | number | Buffer;

/** A named Lua script. `R` is what it returns, as ioredis decodes the reply. */
export interface LuaScript<R> {
  readonly name: string;
  readonly lua: string;
  /** Phantom: ties the reply type to the script. */
  readonly reply?: R;
}

export function luaScript<R>(name: string, lua: string): LuaScript<R> {
  return { name: `pf_${name}`, lua };
}

type Runner = (numberOfKeys: number, keys: readonly ScriptArg[], args: readonly unknown[]) => Promise<unknown>;

/** Runs `script` with `keys` (declared to Redis) and `args`. */
export function runScript<R>(
  redis: Redis | Cluster,
  script: LuaScript<R>,
  keys: readonly ScriptArg[],
  args: readonly unknown[],
): Promise<R> {
  return run(redis, script, '', keys, args);
}

/** `runScript` with bulk strings in the reply as Buffers (ioredis's `<name>Buffer` variant of the command). */
export function runScriptBuffer<R>(
  redis: Redis | Cluster,
  script: LuaScript<R>,
  keys: readonly ScriptArg[],
  args: readonly unknown[],
): Promise<R> {
  return run(redis, script, 'Buffer', keys, args);
}

function run<R>(
  redis: Redis | Cluster,
  script: LuaScript<R>,
  variant: '' | 'Buffer',
  keys: readonly ScriptArg[],
  args: readonly unknown[],
): Promise<R> {
  const commands = redis as unknown as Record<string, Runner | undefined>;
  // Keys and arguments go as arrays (ioredis flattens them): spread into the call, the ~120k
  // arguments of a 60k-event append or ack would overflow V8's call stack.
  // defineCommand with no numberOfKeys: the key count is the first argument of each call.
  if (commands[script.name] === undefined) redis.defineCommand(script.name, { lua: script.lua });
  return (commands[script.name + variant] as Runner).call(redis, keys.length, keys, args) as Promise<R>;
}
