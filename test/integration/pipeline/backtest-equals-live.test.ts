/**
 * The same events give the same scores live (HTTP → Redis → consumer) and in `payflux backtest`
 * (a file, no Redis): the operators are pure over event time.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { post, useApp } from '../../support/app.js';
import { syntheticTraffic } from '../../support/events.js';
import { poll } from '../../support/poll.js';

const run = promisify(execFile);

/** `seconds` (4 minutes) of two processors at 10 events/s; stripe has a timeout outage in minute 3. */
function traffic(seconds = 240): Record<string, unknown>[] {
  return syntheticTraffic({
    seconds,
    perSecond: 10,
    seed: 7,
    idPrefix: 'bt',
    processorOf: (k) => (k % 2 === 0 ? 'stripe' : 'adyen'),
    failure: (processor, s) => {
      const outage = processor === 'stripe' && s >= 120 && s < 180;
      return { rate: outage ? 0.9 : 0.08, outage };
    },
  });
}

/** Each line's processed_at is the latest event time up to the end of its 500-line batch. */
function expectBatchClocks(lines: readonly { event_timestamp: string; processed_at: string }[]): void {
  let latest = 0;
  const clockAtBatchEnd: number[] = [];
  lines.forEach((l, i) => {
    latest = Math.max(latest, Date.parse(l.event_timestamp));
    if (i % 500 === 499 || i === lines.length - 1) clockAtBatchEnd.push(latest);
  });
  lines.forEach((l, i) => expect(Date.parse(l.processed_at), `line ${i}`).toBe(clockAtBatchEnd[Math.floor(i / 500)]));
}

const suite = useApp({ PAYFLUX_RATELIMIT_RPS: '0', PAYFLUX_TIER: 'tier2' });

describe('backtest', () => {
  it('produces the same risk fields as the live pipeline for the same events', async () => {
    const dir = suite.scratch();
    const events = traffic();
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');

    for (let i = 0; i < events.length; i += 500) {
      const res = await post(`${suite.app.url}/v1/events/batch`, events.slice(i, i + 500));
      expect(((await res.json()) as { accepted: number }).accepted).toBe(Math.min(500, events.length - i));
    }
    await poll(
      'the live export',
      () => suite.app.lines.length,
      (n) => n >= events.length,
      { timeoutMs: 15_000 },
    );

    const report = join(dir, 'report.json');
    const { stdout } = await run(process.execPath, ['dist/cli.js', 'backtest', file, '--report', report], {
      env: { ...process.env, PAYFLUX_TIER: 'tier2', PAYFLUX_LOG_LEVEL: 'silent' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const offline = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(offline).toHaveLength(events.length);

    const fields = [
      'processor_risk_score',
      'processor_risk_band',
      'processor_risk_drivers',
      'processor_playbook_context',
      'risk_trajectory',
    ];
    const pick = (l: Record<string, unknown>) =>
      Object.fromEntries([['event_id', l.event_id], ...fields.map((f) => [f, l[f]])]);
    const live = new Map(suite.app.lines.map((l) => [l.event_id, pick(l)]));
    for (const l of offline) expect(live.get(l.event_id)).toEqual(pick(l));

    // The outage was seen: the report holds a stripe incident that reached high or worse.
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      events: number;
      incidents: { processor: string; peak_band: string }[];
    };
    expect(r.events).toBe(events.length);
    expect(r.incidents.some((i) => i.processor === 'stripe' && ['high', 'critical'].includes(i.peak_band))).toBe(true);
    expect(r.incidents.some((i) => i.processor === 'adyen')).toBe(false);
  });

  it('stamps every line with the event-time clock of its own batch, the same bytes through a file or a pipe', async () => {
    // Three backtest runs of 12,000 events: ~10 s on a quiet machine, several times that on a loaded one.
    const dir = suite.scratch();
    // 12,000 events: several 1 MiB read chunks of many batches each, where reading ahead showed.
    const events = traffic(1200);
    const file = join(dir, 'clock.ndjson');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const env = { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' };
    const out = join(dir, 'clock.out');
    await run('sh', ['-c', `node dist/cli.js backtest ${file} > ${out}`], { env });
    const { stdout: piped } = await run(process.execPath, ['dist/cli.js', 'backtest', file], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    const written = readFileSync(out, 'utf8');
    expect(piped).toBe(written);

    // The same events in the stored form (the export's key order) take the splicing path:
    // the lines must not change by a byte.
    const storedFile = join(dir, 'clock-stored.ndjson');
    writeFileSync(storedFile, events.map((e) => JSON.stringify(toPaymentEvent(e))).join('\n') + '\n');
    const { stdout: spliced } = await run(process.execPath, ['dist/cli.js', 'backtest', storedFile], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(spliced).toBe(written);

    // processed_at is the latest event time up to the end of the line's batch (500 lines):
    // never a clock from batches read ahead of the one being written.
    const lines = written
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event_timestamp: string; processed_at: string });
    expect(lines).toHaveLength(events.length);
    expectBatchClocks(lines);
  }, 60_000);

  it('stops quietly when its reader goes away (EPIPE), like any filter piped into head', async () => {
    const dir = suite.scratch();
    const file = join(dir, 'epipe.ndjson');
    writeFileSync(
      file,
      traffic(1200)
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    const child = spawn(process.execPath, ['dist/cli.js', 'backtest', file], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read the first chunk, then close our end of the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toContain('EPIPE');
    expect(stderr).not.toMatch(/Unhandled|at .*\.js:\d+/);
  });

  it('skips lines that are not valid events and says how many', async () => {
    const dir = suite.scratch();
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, `${JSON.stringify(traffic()[0])}\nnot json\n{"event_id":"x"}\n`);
    const report = join(dir, 'mixed.json');
    await run(process.execPath, ['dist/cli.js', 'backtest', file, '--report', report], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
    });
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      events: number;
      skipped: number;
      errors: { line: number }[];
    };
    expect(r).toMatchObject({ events: 1, skipped: 2 });
    expect(r.errors.map((e) => e.line)).toEqual([2, 3]);
  });

  it('numbers, skips and batches lines alike whichever thread checks them', async () => {
    const dir = suite.scratch();
    // Every 7th line is bad (so bad lines fall on both threads' share), every 11th is blank.
    const events = traffic(300);
    const lines: string[] = [];
    const bad: number[] = [];
    const lineOf = new Map<string, number>();
    for (const e of events) {
      if ((lines.length + 1) % 11 === 0) lines.push('');
      if ((lines.length + 1) % 7 === 0) {
        lines.push(lines.length % 2 === 0 ? 'not json' : '{"event_id":"x"}');
        bad.push(lines.length);
      }
      lines.push(JSON.stringify(e));
      lineOf.set(e.event_id as string, lines.length);
    }
    const file = join(dir, 'sprinkled.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const report = join(dir, 'sprinkled.json');
    const { stdout } = await run(process.execPath, ['dist/cli.js', 'backtest', file, '--report', report], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      events: number;
      skipped: number;
      errors: { line: number }[];
    };
    expect(r).toMatchObject({ events: events.length, skipped: bad.length });
    expect(r.errors.map((e) => e.line)).toEqual(bad.slice(0, 20));

    const out = stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            event_id: string;
            stream_message_id: string;
            event_timestamp: string;
            processed_at: string;
          },
      );
    expect(out.map((l) => l.event_id)).toEqual(events.map((e) => e.event_id));
    for (const l of out) expect(l.stream_message_id).toBe(`0-${lineOf.get(l.event_id) ?? 0}`);
    // Batches of exactly 500 events, as without bad lines: processed_at is each batch's clock.
    expectBatchClocks(out);
  });
});
