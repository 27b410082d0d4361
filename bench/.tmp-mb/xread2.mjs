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
for (const count of [500, 500, 500]) {
  await r.del('g'); try { await r.xgroup('DESTROY', 's', 'g'); } catch {}
  await r.xgroup('CREATE', 's', 'g', '0');
  const c0 = process.cpuUsage(); const t0 = performance.now();
  let n = 0;
  for (;;) {
    const reply = await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', count, 'STREAMS', 's', '>');
    if (!reply) break;
    const entries = reply[0][1];
    if (entries.length === 0) break;
    n += entries.length;
    await r.xack('s', 'g', ...entries.map(e => e[0]));
  }
  const ms = performance.now() - t0; const c = process.cpuUsage(c0);
  console.log('count', count, (n / ms * 1000).toFixed(0), 'ev/s wall;', ((c.user + c.system) / n * 1000).toFixed(0), 'ns client CPU per event');
}
r.disconnect(); srv.kill();
