import { storedPayloads, newTag } from '/work/main/bench/lib/events.js';
const lines = storedPayloads(newTag(), 0, 500, Date.now(), 1);
const mk = () => { let s = ''; for (const l of lines) s += '{"type":"payment_exhaust","schema_version":1,' + l.slice(1, -1) + ',"stream_message_id":"1732442400123-' + Math.random() + '","consumer_name":"c1","processed_at":"2026-11-24T10:00:00.000Z","processor_risk_score":0.1,"processor_risk_band":"low","processor_risk_drivers":["nominal_behavior"]}\n'; return s; };
function b(name, fn) { for (let r = 0; r < 3; r++) { let t = 0; for (let i = 0; i < 100; i++) { const s = mk(); const t0 = performance.now(); fn(s); t += performance.now() - t0; } if (r === 2) console.log(name, (t / 100 * 1000).toFixed(0), 'µs per 500-line chunk', mk().length); } }
b('Buffer.from utf8', (s) => Buffer.from(s));
b('byteLength+latin1', (s) => { const n = Buffer.byteLength(s); return n === s.length ? Buffer.from(s, 'latin1') : Buffer.from(s); });
b('byteLength only', (s) => Buffer.byteLength(s));
const big = Buffer.allocUnsafe(1 << 20);
b('byteLength+latin1 write into reused', (s) => { const n = Buffer.byteLength(s); return n === s.length ? big.latin1Write(s, 0) : big.utf8Write(s, 0); });
b('utf8Write into reused', (s) => big.utf8Write(s, 0));
b('flatten only', (s) => s.charCodeAt(100));
b('flatten + utf8Write reused', (s) => { s.charCodeAt(100); return big.utf8Write(s, 0); });
b('allocUnsafe(len*3)+utf8Write', (s) => { const x = Buffer.allocUnsafe(s.length * 3); return x.utf8Write(s, 0); });
b('allocUnsafeSlow(len)', (s) => { const x = Buffer.allocUnsafeSlow(s.length); x.fill(1); return x; });
