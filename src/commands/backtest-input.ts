/**
 * The bytes of `payflux backtest`'s input: a file, or standard input for `-`, gunzipped when it
 * starts with gzip's magic bytes (`events.ndjson.gz`, or `zcat`-less pipes), whatever its name.
 * Chunks of up to 1 MiB, as the reader splits them into lines.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const CHUNK = 1 << 20;

export async function* inputChunks(file: string): AsyncGenerator<Buffer> {
  const raw =
    file === '-'
      ? createReadStream('', { fd: 0, autoClose: false, highWaterMark: CHUNK })
      : createReadStream(file, { highWaterMark: CHUNK });
  const it = (raw as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return;
  const head = first.value;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* all();
    return;
  }
  const gunzip = createGunzip({ chunkSize: CHUNK });
  const source = Readable.from(all());
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  yield* gunzip as AsyncIterable<Buffer>;
}
