/**
 * The partition layout: one partition per configured processor, every key of a partition under
 * one Redis Cluster hash tag, so that its dedup + append script, its dead-letter script and its
 * commit each run in one slot.
 *
 *   processor ─▶ tag `pf:<processor>:<n>` ─▶ slot (CRC16 of the tag)
 *   keys: <stream>:{tag}  <dlq>:{tag}  <prefix>d:{tag}:bucket:<n>  <prefix>lease:{tag}  …
 *
 * Tags are chosen to spread partitions evenly over the 16384 slots (hence over masters, which
 * own contiguous slot ranges): processors sorted by name, the i-th of N takes the first suffix n
 * whose slot lies in the middle half of the i-th N-th of the slot space. With plain
 * `{pf:<processor>}` tags, stripe, adyen and internal all land on one master of three.
 * Deterministic: every node computes the same layout from the same processor list.
 *
 * The legacy partition is the unpartitioned stream of a single-stream deployment
 * (`PAYFLUX_STREAM`, `PAYFLUX_DLQ_STREAM`): consumers read it first until it is drained; ingest
 * never appends to it. A processor split into sub-partitions later would add tags per
 * sub-partition; every user of the layout already goes through `partitionOf`.
 */
import calculateSlot from 'cluster-key-slot';

export const SLOTS = 16384;

/** The Redis keys of one partition. */
export interface Partition {
  /** The processor it holds; '' for the legacy stream. */
  readonly name: string;
  /** The hash tag (without braces); '' for the legacy stream. */
  readonly tag: string;
  readonly slot: number;
  readonly stream: string;
  readonly dlq: string;
  /** Dedup marks are members of the sets `dedupPrefix + 'bucket:' + n` (buffer/packed-append.ts). */
  readonly dedupPrefix: string;
  /** Ownership (consumers): the lease, its fencing epoch, the window checkpoint. */
  readonly lease: string;
  readonly epoch: string;
  readonly checkpoint: string;
  /** Probation marks of suspect entries (pipeline/poison-policy.ts): entry ids are per stream. */
  readonly probation: string;
}

export interface PartitionLayout {
  /** One per processor, in processor-name order. */
  readonly partitions: readonly Partition[];
  /** The single-stream deployment's stream, read until drained. */
  readonly legacy: Partition;
  /** The partition of a processor, or undefined for an unknown one. */
  partitionOf(processor: string): Partition | undefined;
}

export interface LayoutOptions {
  readonly processors: readonly string[];
  readonly keyPrefix: string;
  readonly stream: string;
  readonly dlqStream: string;
}

/** The tag for the i-th of `count` partitions: its slot in the middle half of the i-th range. */
export function spreadTag(name: string, index: number, count: number): string {
  const width = SLOTS / count;
  const lo = Math.floor(index * width + width / 4);
  const hi = Math.ceil(index * width + (3 * width) / 4);
  for (let n = 0; n < 100_000; n++) {
    const tag = `pf:${name}:${n}`;
    const slot = calculateSlot(tag);
    if (slot >= lo && slot < hi) return tag;
  }
  // Unreachable for count ≤ 8192: a range of ≥ 1 slot is hit within ~16k tries on average.
  return `pf:${name}`;
}

/** Each processor's partition tag: what every node computes from the same processor list. */
export function partitionTags(processors: readonly string[]): Map<string, string> {
  const names = [...new Set(processors)].sort();
  return new Map(names.map((name, i) => [name, spreadTag(name, i, names.length)]));
}

export function partitionLayout(o: LayoutOptions): PartitionLayout {
  const partitions = [...partitionTags(o.processors)].map(([name, tag]) => keysFor(o, name, tag));
  const byName = new Map(partitions.map((p) => [p.name, p]));
  const legacy: Partition = {
    name: '',
    tag: '',
    slot: calculateSlot(o.stream),
    stream: o.stream,
    dlq: o.dlqStream,
    dedupPrefix: `${o.keyPrefix}d:`,
    lease: `${o.keyPrefix}lease:legacy`,
    epoch: `${o.keyPrefix}epoch:legacy`,
    checkpoint: `${o.keyPrefix}ckpt:legacy`,
    probation: `${o.keyPrefix}probation`,
  };
  return { partitions, legacy, partitionOf: (processor) => byName.get(processor) };
}

function keysFor(o: LayoutOptions, name: string, tag: string): Partition {
  const t = `{${tag}}`;
  return {
    name,
    tag,
    slot: calculateSlot(tag),
    stream: `${o.stream}:${t}`,
    dlq: `${o.dlqStream}:${t}`,
    dedupPrefix: `${o.keyPrefix}d:${t}:`,
    lease: `${o.keyPrefix}lease:${t}`,
    epoch: `${o.keyPrefix}epoch:${t}`,
    checkpoint: `${o.keyPrefix}ckpt:${t}`,
    probation: `${o.keyPrefix}probation:${t}`,
  };
}
