#!/usr/bin/env node
/**
 * Summarise a V8 .cpuprofile (from `node bench/run.js --profile`, which runs PayFlux with
 * --cpu-prof): the top functions by self time, and self time grouped by where the code lives
 * (our dist/ files, each node_modules package, Node internals, GC, idle).
 *
 *   node bench/profile-summary.js bench/results/profiles.tmp/drain.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [--top N]\n');
  process.exit(64);
}
const top = Number(values.top);

function where(url) {
  if (url === '') return '(native/vm)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg ${nm[1]}`;
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `payflux ${dist[1]}`;
  return url.replace(/^file:\/\//, '');
}

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const places = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const place = name.startsWith('(') ? name : where(cf.url);
    const key = `${name}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    places.set(place, (places.get(place) ?? 0) + us);
  }
  // Inclusive time of our own functions: each sample counts once per distinct function on its stack.
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  for (const [id, us] of selfUs) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (!cf || !/\/dist\//.test(cf.url) || cf.url.includes('node_modules')) continue;
      const key = `${cf.functionName || '(anonymous)'}  ${where(cf.url)}:${cf.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  process.stdout.write(
    `\n${file}\n  wall ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (idle ${((idle / total) * 100).toFixed(0)} %); shares below are of busy time\n`,
  );
  process.stdout.write('\n  self time by place:\n');
  for (const [k, us] of [...places].sort((a, b) => b[1] - a[1]).slice(0, 15))
    process.stdout.write(`  ${pct(us)} ${ms(us)}  ${k}\n`);
  process.stdout.write(`\n  top ${top} PayFlux functions by total (inclusive) time:\n`);
  for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`  ${pct(us)} ${ms(us)}  ${k}\n`);
  process.stdout.write(`\n  top ${top} functions by self time:\n`);
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`  ${pct(us)} ${ms(us)}  ${k}\n`);
}
