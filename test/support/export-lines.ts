/** Reading what PayFlux exported: NDJSON lines from stdout or an export file, and their event ids. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { expect } from 'vitest';

export interface ExportLine {
  readonly type: string;
  readonly event_id: string;
  readonly stream_message_id: string;
  readonly consumer_name: string;
  readonly [field: string]: unknown;
}

export function parseExportLine(line: string): ExportLine {
  try {
    return JSON.parse(line) as ExportLine;
  } catch {
    throw new Error(`export line is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

/** Every complete line of an export file (none when it does not exist or is not a regular file: /dev/full). */
export function readExportFile(path: string): string[] {
  if (!existsSync(path) || !statSync(path).isFile()) return [];
  const text = readFileSync(path, 'utf8');
  if (text === '') return [];
  const lines = text.split('\n');
  // A complete file ends with "\n"; whatever follows the last one is a line still being written.
  lines.pop();
  return lines;
}

/** Count occurrences of each id. */
export function countIds(ids: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** `seen` holds each of `ids` exactly once, and nothing else, in the order of `ids`. */
export function expectEachOnce(seen: Iterable<string>, ids: readonly string[]): void {
  expect([...countIds(seen)]).toEqual(ids.map((id) => [id, 1]));
}

/** The event ids of an export file's complete lines. */
export const exportFileIds = (path: string): string[] => readExportFile(path).map((l) => parseExportLine(l).event_id);
