/**
 * Read a streamed body up to `maxBytes` and stop. Leaving the `for await` early calls the
 * stream's `return()`, which destroys it: the remaining bytes are never read and undici closes
 * the socket, so a 5 GB page costs us `maxBytes` and one connection, nothing more.
 */
export interface CappedBody {
  readonly bytes: Uint8Array;
  /** True when the body had more than `maxBytes`. */
  readonly truncated: boolean;
}

export async function readCapped(body: AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<CappedBody> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const room = maxBytes - total;
    if (chunk.length > room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      total += Math.max(room, 0);
      truncated = true;
      break;
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, total), truncated };
}
