import { storedPayloads, newTag } from '/work/main/bench/lib/events.js';
const lines = storedPayloads(newTag(), 0, 500, Date.now(), 1).map(l => l.slice(1, -1));
const HEAD = '{"type":"payment_exhaust","schema_version":"1",';
const risk = ',"processor_risk_score":0.1,"processor_risk_band":"low","processor_risk_drivers":["nominal_behavior"]';
const mkLines = () => { const out = new Array(500); let i = 0; for (const l of lines) out[i++] = `${HEAD}${l},"stream_message_id":${JSON.stringify('1732442400123-' + i)},"consumer_name":"c1","processed_at":"2026-11-24T10:00:00.000Z"${risk}}\n`; return out; };
const mkRope = () => { let s = ''; for (const l of mkLines()) s += l; return s; };
const big = Buffer.allocUnsafe(4 << 20);
function b(name, mk, fn) { for (let r = 0; r < 4; r++) { let t = 0; for (let i = 0; i < 200; i++) { const s = mk(); const t0 = performance.now(); fn(s); t += performance.now() - t0; } if (r === 3) console.log(name.padEnd(36), (t / 200 * 1000).toFixed(0), 'µs per 500-line chunk'); } }
function bt(name, fn) { for (let r = 0; r < 4; r++) { const t0 = performance.now(); for (let i = 0; i < 200; i++) fn(); const t = performance.now() - t0; if (r === 3) console.log(name.padEnd(36), (t / 200 * 1000).toFixed(0), 'µs per 500-line chunk incl. building'); } }
bt('rope + Buffer.from', () => Buffer.from(mkRope()));
bt('rope + utf8Write reused', () => big.utf8Write(mkRope(), 0));
bt('join + Buffer.from', () => Buffer.from(mkLines().join('')));
bt('join + utf8Write reused', () => big.utf8Write(mkLines().join(''), 0));
bt('per line utf8Write reused', () => { let off = 0; for (const l of mkLines()) off += big.utf8Write(l, off); return off; });
bt('per line utf8Write + copy to new', () => { let off = 0; for (const l of mkLines()) off += big.utf8Write(l, off); return Buffer.from(big.subarray(0, off)); });
bt('build only (lines)', () => mkLines());
bt('build only (rope)', () => mkRope());
