import Redis from 'ioredis';
const r = new Redis({ port: 6499 });
const mode = process.argv[2] ?? 'str';
await r.xgroup('CREATE', 's', 'g', '0');
const c0 = process.cpuUsage(); const t0 = performance.now();
let n = 0;
for (;;) {
  const reply = mode === 'buf' ? await r.xreadgroupBuffer('GROUP', 'g', 'c', 'COUNT', 500, 'STREAMS', 's', '>') : await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 500, 'STREAMS', 's', '>');
  if (!reply) break;
  const entries = reply[0][1];
  if (entries.length === 0) break;
  n += entries.length;
  const ids = mode === 'buf' ? entries.map(e => e[0].latin1Slice()) : entries.map(e => e[0]);
  if (mode === 'buf') for (const e of entries) e[1][1].latin1Slice();
  await r.xack('s', 'g', ...ids);
}
const ms = performance.now() - t0; const c = process.cpuUsage(c0);
console.log(mode, (n / ms * 1000).toFixed(0), 'ev/s wall;', ((c.user + c.system) / n * 1000).toFixed(0), 'ns client CPU per event');
r.disconnect();
