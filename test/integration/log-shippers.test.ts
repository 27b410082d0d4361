/**
 * The shipped log-shipper configs read what PayFlux writes: deploy/vector.toml and both Fluent Bit
 * forms (deploy/fluent-bit/), parsed with TOML and YAML parsers, name only fields of the export
 * line, their time formats fit a real export line, and the compose file's `full` profile wires
 * Vector to the export file PayFlux writes. (No Vector or Fluent Bit binary on this machine: the
 * configs are checked as data.)
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { toPaymentEvent } from '../../src/events/payment-event.js';
import { envelope } from '../../src/pipeline/envelope.js';
import { EXPORT_LINE_FIELDS, createLineSerializer } from '../../src/sinks/export-line.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** One export line exactly as PayFlux writes it. */
const line = JSON.parse(
  createLineSerializer('consumer-1')(
    [
      envelope(
        '1700000000000-0',
        toPaymentEvent({
          event_id: 'evt_1',
          event_timestamp: '2026-03-01T09:14:03Z',
          event_type: 'payment_failed',
          processor: 'stripe',
          retry_count: 1,
        }),
      ),
    ],
    new Date().toISOString(),
  ).split('\n')[0]!,
) as Record<string, unknown>;
const LINE_TYPES = ['payment_event', 'pilot_outcome_annotation'];

interface Compose {
  services: Record<
    string,
    { profiles?: string[]; command?: string[]; volumes?: string[]; environment?: Record<string, string> }
  >;
}
const compose = parseYaml(read('docker-compose.yml')) as Compose;
const exportFile = compose.services.payflux?.environment?.PAYFLUX_EXPORT_FILE;

/** strftime (the subset Fluent Bit's configs use) as a regular expression. */
function strftimeRegex(format: string): RegExp {
  const parts: Record<string, string> = {
    Y: '\\d{4}',
    m: '\\d{2}',
    d: '\\d{2}',
    H: '\\d{2}',
    M: '\\d{2}',
    S: '\\d{2}',
    L: '\\d+',
    z: '[+-]\\d{4}',
  };
  return new RegExp(
    `^${format.replace(/%(\w)|([.^$*+?()[\]{}|\\])/g, (_, f: string, lit: string) => (f ? parts[f]! : `\\${lit}`))}$`,
  );
}

describe('deploy/vector.toml', () => {
  const vector = parseToml(read('deploy/vector.toml')) as {
    data_dir: string;
    sources: Record<string, { type: string; include?: string[] }>;
    transforms: Record<string, { type: string; inputs: string[]; source?: string; route?: Record<string, string> }>;
    sinks: Record<string, { inputs: string[] }>;
  };

  it('tails the file PayFlux exports to in the compose setup', () => {
    expect(vector.sources.payflux_export).toMatchObject({ type: 'file', include: [exportFile] });
  });

  it('parses each line as JSON and names only fields of the export line', () => {
    const remap = vector.transforms.payflux_events!;
    expect(remap.type).toBe('remap');
    expect(remap.source).toContain('parse_json!(.message)');
    const programs = [remap.source!, ...Object.values(vector.transforms.payflux_by_type?.route ?? {})].join('\n');
    const fields = [...programs.matchAll(/\.([a-z_]+)/g)].map((m) => m[1]!).filter((f) => f !== 'message');
    expect(fields.length).toBeGreaterThan(3);
    for (const f of fields) expect(EXPORT_LINE_FIELDS, f).toContain(f);
    for (const [, value] of programs.matchAll(/\.type == "([a-z_]+)"/g)) expect(LINE_TYPES).toContain(value);
    expect(line.type).toBe('payment_event');
  });

  it('connects every component to one that exists', () => {
    const outputs = new Set([
      ...Object.keys(vector.sources),
      ...Object.entries(vector.transforms).flatMap(([name, t]) =>
        t.route === undefined ? [name] : Object.keys(t.route).map((r) => `${name}.${r}`),
      ),
    ]);
    for (const c of [...Object.values(vector.transforms), ...Object.values(vector.sinks)])
      for (const input of c.inputs) expect(outputs, input).toContain(input);
  });

  it('runs under docker compose --profile full, reading the export volume', () => {
    const v = compose.services.vector!;
    expect(v.profiles).toEqual(['full']);
    expect(compose.services.payflux?.profiles).toBeUndefined();
    const configPath = v.command?.[v.command.indexOf('--config') + 1];
    expect(v.volumes).toContain(`./deploy/vector.toml:${configPath}:ro`);
    expect(v.volumes).toContain(`export:${dirname(exportFile!)}:ro`);
    expect(compose.services.payflux?.volumes).toContain(`export:${dirname(exportFile!)}`);
    expect(v.volumes?.some((m) => m.split(':')[1] === vector.data_dir)).toBe(true);
  });
});

describe.each(['payflux-file.yaml', 'payflux-stdin.yaml'])('deploy/fluent-bit/%s', (file) => {
  type Plugin = Record<string, string | number | boolean>;
  const fb = parseYaml(read(`deploy/fluent-bit/${file}`)) as {
    parsers: Plugin[];
    pipeline: { inputs: Plugin[]; filters: Plugin[]; outputs: Plugin[] };
  };
  const parser = fb.parsers.find((p) => p.name === fb.pipeline.inputs[0]?.parser);

  it(`reads ${file.includes('file') ? 'the export file' : 'a pipe from payflux serve'} with a JSON parser`, () => {
    const input = fb.pipeline.inputs[0]!;
    if (file.includes('file')) expect(input).toMatchObject({ name: 'tail', path: exportFile });
    else expect(input).toMatchObject({ name: 'stdin' });
    expect(parser).toMatchObject({ format: 'json' });
  });

  it('takes the record time from an export-line field in the format PayFlux writes it', () => {
    const key = String(parser?.time_key);
    expect(EXPORT_LINE_FIELDS).toContain(key);
    expect(String(line[key])).toMatch(strftimeRegex(String(parser?.time_format)));
  });

  it('filters and routes on export-line fields only, keeping both kinds of line', () => {
    for (const f of fb.pipeline.filters) {
      const [key, pattern] = String(f.regex).split(/ (.*)/s);
      expect(EXPORT_LINE_FIELDS).toContain(key);
      for (const type of LINE_TYPES) expect(type).toMatch(new RegExp(pattern!));
      expect(f.match).toBe(fb.pipeline.inputs[0]?.tag);
    }
    for (const o of fb.pipeline.outputs) expect(o.match).toBe(fb.pipeline.inputs[0]?.tag);
  });
});
