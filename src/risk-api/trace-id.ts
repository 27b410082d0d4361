/**
 * The `x-trace-id` of a Risk API request: a sane incoming one is honoured (so a caller can
 * follow one request through its logs and ours), anything else is replaced by a fresh id.
 */
import { randomUUID } from 'node:crypto';

const TRACE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

export function traceIdFor(headers: Readonly<Record<string, string | string[] | undefined>>): string {
  const incoming = headers['x-trace-id'];
  return typeof incoming === 'string' && TRACE_ID_RE.test(incoming) ? incoming : randomUUID();
}
