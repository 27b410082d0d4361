import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const dt = p.timeDeltas; for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
const agg = new Map();
for (const n of p.nodes) {
  const cf = n.callFrame;
  if (cf.functionName !== process.argv[3] || (cf.url !== '' && process.argv[3] === '')) continue;
  let q = byId.get(parent.get(n.id)); const chain = [];
  for (let k = 0; k < 2 && q; k++) { chain.push(`${q.callFrame.functionName || '(anon)'}@${q.callFrame.url.split('/').slice(-2).join('/')}:${q.callFrame.lineNumber}`); q = byId.get(parent.get(q.id)); }
  const key = chain.join(' < ');
  agg.set(key, (agg.get(key) ?? 0) + (self.get(n.id) ?? 0));
}
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log((v / 1000).toFixed(0).padStart(6), 'ms', k);
