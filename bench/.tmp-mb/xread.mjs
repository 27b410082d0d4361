import Redis from 'ioredis';
import { spawn } from 'node:child_process';
import { storedPayloads, newTag } from '/work/main/bench/lib/events.js';
const port = 6499;
const srv = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise(r => setTimeout(r, 300));
const r = new Redis({ port });
const N = 200000;
const tag = newTag();
for (let i = 0; i < N; i += 5000) {
  const p = r.pipeline();
  for (const l of storedPayloads(tag, i, 5000, Date.now(), 1)) p.xadd('s', '*', 'e', l);
  await p.exec();
}
const mode = process.argv[2];
await r.xgroup('CREATE', 's', 'g', '0');
const t0 = performance.now();
let n = 0, bytes = 0;
for (;;) {
  let reply;
  if (mode === 'buffer') reply = await r.xreadgroupBuffer('GROUP', 'g', 'c', 'COUNT', 500, 'STREAMS', 's', '>');
  else reply = await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 500, 'STREAMS', 's', '>');
  if (!reply) break;
  const entries = reply[0][1];
  if (entries.length === 0) break;
  for (const [id, f] of entries) { n++; if (mode === 'buffer') bytes += f[1].toString().length; else bytes += f[1].length; }
  await r.xack('s', 'g', ...entries.map(e => e[0]));
}
const ms = performance.now() - t0;
console.log(mode, n, (n / ms * 1000).toFixed(0), 'ev/s', process.cpuUsage().user / 1000, 'ms user');
r.disconnect(); srv.kill();
