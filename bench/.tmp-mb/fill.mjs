import Redis from 'ioredis';
import { storedPayloads, newTag } from '/work/main/bench/lib/events.js';
const r = new Redis({ port: 6499 });
await r.flushall();
const tag = newTag();
for (let i = 0; i < 300000; i += 5000) { const p = r.pipeline(); for (const l of storedPayloads(tag, i, 5000, Date.now(), 1)) p.xadd('s', '*', 'e', l); await p.exec(); }
r.disconnect();
