/**
 * The README's first checks and the shipped logrotate snippet, run as written against a real
 * `payflux serve` (only host, port, key and the export path adapted): curl for health, the
 * sample event and the metric; logrotate (whose postrotate is `killall -SIGHUP payflux`) for
 * the export file.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readExportFile } from '../../support/export-lines.js';
import { API_KEY, payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { defined, poll } from '../../support/poll.js';
import { makeEvent } from '../../support/events.js';
import { postBatch } from '../../support/producer.js';
import { useRedis } from '../../support/use-redis.js';

const run = promisify(execFile);
const suite = useRedis();

/** The shell commands of the README's "Try it" block (the shell joins continued lines), comments dropped. */
function readmeCommands(): string[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('### Try it');
  const start = readme.indexOf('```sh\n', from) + 6;
  const block = readme.slice(start, readme.indexOf('\n```', start));
  return block.split(/\n(?=curl )/).map((cmd) =>
    cmd
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n')
      .trim(),
  );
}

describe('the README checks', () => {
  it('pass as written: health ok, the sample event accepted and counted, its export line on stdout', async () => {
    const env = await payfluxEnv(suite);
    const p = await startPayflux(suite, env);
    const outputs: string[] = [];
    for (const cmd of readmeCommands()) {
      const adapted = cmd.replaceAll('localhost:8080', env.HTTP_ADDR ?? '').replaceAll('your-secret-api-key', API_KEY);
      const { stdout } = await run('sh', ['-c', adapted], { timeout: 10_000 });
      outputs.push(stdout.trim());
    }
    const [health, ingest, metrics] = outputs;
    expect(health).toBe('{"status":"ok"}');
    // An error answer has a JSON body; the 202 has none.
    expect(ingest).toBe('');
    // grep also shows the metric's HELP and TYPE lines.
    expect(metrics?.split('\n')).toContain('payflux_ingest_accepted_total 1');
    const line = await poll(
      'the export line of the sample event',
      () => p.exported().find((l) => l.event_id === '550e8400-e29b-41d4-a716-446655440000'),
      defined,
      { context: () => p.stderrTail() },
    );
    expect(line).toMatchObject({ type: 'payment_event', event_timestamp: '2026-01-09T12:00:00Z' });
  });

  it('rotate the export file with the shipped logrotate snippet: killall -SIGHUP payflux reaches serve', async () => {
    const dir = suite.scratch();
    const file = join(dir, 'exports.jsonl');
    const p = await startPayflux(
      suite,
      await payfluxEnv(suite, { PAYFLUX_EXPORT_MODE: 'file', PAYFLUX_EXPORT_FILE: file }),
    );
    expect(readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()).toBe('payflux');
    const [before] = await postBatch(p.url, [makeEvent('rotate-before')]);
    await poll(
      'the first line in the file',
      () => readExportFile(file).length,
      (n) => n === 1,
    );

    const snippet = readFileSync(new URL('../../../deploy/logrotate/payflux', import.meta.url), 'utf8');
    const conf = join(dir, 'logrotate.conf');
    writeFileSync(conf, snippet.replace('/var/log/payflux/exports.jsonl', file));
    await run('logrotate', ['-f', '-s', join(dir, 'state'), conf], { timeout: 10_000 });
    await poll(
      'the export file reopened',
      () => p.stderrLines().some((l) => l.includes('"msg":"export_file_reopened"')),
      (reopened) => reopened,
      { context: () => p.stderrTail() },
    );

    const [after] = await postBatch(p.url, [makeEvent('rotate-after')]);
    await poll(
      'the second line in the new file',
      () => readExportFile(file).length,
      (n) => n === 1,
    );
    expect(readExportFile(file).map((l) => (JSON.parse(l) as { event_id: string }).event_id)).toEqual([after]);
    expect(readExportFile(`${file}.1`).map((l) => (JSON.parse(l) as { event_id: string }).event_id)).toEqual([before]);
    expect(p.alive()).toBe(true);
  });
});
