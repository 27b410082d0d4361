/**
 * Reading PayFlux's NDJSON export file back: count its lines, check that every accepted event
 * id is in it (nothing lost) and how many are there twice, and tail it to see when each line
 * appears (client-side latency).
 *
 * Ids are `evt_<tag>_<10 digits>` (lib/events.js), so an id is found by searching for the
 * prefix and read as a number: no JSON.parse of a million lines.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ID_DIGITS, eventIdPrefix } from './events.js';

const NL = 10;
const CHUNK = 4 << 20;

function parseDigits(buf, off) {
  let n = 0;
  for (let i = 0; i < ID_DIGITS; i++) {
    const d = buf[off + i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Read new complete lines of `path` from `state.pos`; calls `onId(id)` for every line holding
 * one of our ids and returns the number of lines read. Incomplete last lines wait for the next call.
 */
function readNew(fd, state, prefix, onId) {
  let lines = 0;
  const buf = state.buf;
  for (;;) {
    const n = readSync(fd, buf, state.carry, buf.length - state.carry, state.pos);
    if (n === 0) return lines;
    state.pos += n;
    const end = state.carry + n;
    let start = 0;
    let nl = buf.indexOf(NL, start);
    while (nl !== -1 && nl < end) {
      lines++;
      if (onId) {
        const p = buf.indexOf(prefix, start);
        if (p !== -1 && p < nl) onId(parseDigits(buf, p + prefix.length));
      }
      start = nl + 1;
      nl = buf.indexOf(NL, start);
    }
    // Keep the partial line for the next read.
    state.carry = end - start;
    if (state.carry >= buf.length) throw new Error('an export line longer than the read buffer');
    buf.copy(buf, 0, start, end);
    buf.fill(0, state.carry);
  }
}

export function fileSize(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Count lines and check ids: `seen[id]` counts (saturating at 255) for ids below `maxId`. */
export function scanExport(path, tag, maxId) {
  const prefix = Buffer.from(eventIdPrefix(tag));
  const seen = new Uint8Array(maxId);
  let foreign = 0;
  const fd = openSync(path, 'r');
  try {
    const state = { pos: 0, carry: 0, buf: Buffer.alloc(CHUNK) };
    const lines = readNew(fd, state, prefix, (id) => {
      if (id >= 0 && id < maxId) {
        if (seen[id] < 255) seen[id]++;
      } else foreign++;
    });
    return { lines, seen, foreign };
  } finally {
    closeSync(fd);
  }
}

/** From a scan: accepted ids missing from the file, and ids written more than once. */
export function checkRanges(seen, ranges) {
  let missing = 0;
  let expected = 0;
  for (const [first, n] of ranges) {
    expected += n;
    for (let id = first; id < first + n; id++) if (seen[id] === 0) missing++;
  }
  let duplicated = 0;
  for (let i = 0; i < seen.length; i++) if (seen[i] > 1) duplicated++;
  return { expected, missing, duplicated };
}

/** Count the lines of `path` incrementally (state kept between calls). */
export function lineCounter(path) {
  const state = { pos: 0, carry: 0, buf: Buffer.alloc(CHUNK) };
  let fd;
  let lines = 0;
  return {
    poll() {
      fd ??= openSync(path, 'r');
      lines += readNew(fd, state, undefined, undefined);
      return lines;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/**
 * Tail `path` every `everyMs` and record, for each of our ids, the moment (performance.now())
 * its line was first seen: `seenAt[id]` (0 = not yet).
 */
export function tailIds(path, tag, maxId, everyMs = 2) {
  const prefix = Buffer.from(eventIdPrefix(tag));
  const seenAt = new Float64Array(maxId);
  const state = { pos: 0, carry: 0, buf: Buffer.alloc(1 << 20) };
  let fd;
  let lines = 0;
  let stopped = false;
  const poll = () => {
    try {
      fd ??= openSync(path, 'r');
    } catch {
      return;
    }
    const t = performance.now();
    lines += readNew(fd, state, prefix, (id) => {
      if (id >= 0 && id < maxId && seenAt[id] === 0) seenAt[id] = t;
    });
  };
  const timer = setInterval(poll, everyMs);
  return {
    seenAt,
    lines: () => lines,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      poll();
      if (fd !== undefined) closeSync(fd);
    },
  };
}
