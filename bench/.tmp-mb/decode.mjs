import { storedPayloads, newTag } from '/work/main/bench/lib/events.js';
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
const text = storedPayloads(newTag(), 0, 3000, Date.now(), 1).join('\n');
const buf = Buffer.from(text);
const chunk = buf.subarray(0, 1 << 20);
function b(name, fn) { for (let r = 0; r < 3; r++) { const t = performance.now(); for (let i = 0; i < 200; i++) fn(); const ms = (performance.now() - t) / 200; if (r === 2) console.log(name, (ms * 1000).toFixed(0), 'µs per MiB'); } }
b('utf8', () => chunk.toString('utf8'));
b('latin1', () => chunk.toString('latin1'));
b('isAscii', () => isAscii(chunk));
const d = new StringDecoder('utf8');
b('decoder', () => d.write(chunk));
const s = chunk.toString('latin1');
b('split-indexOf', () => { let from = 0, n = 0; for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', from)) { const l = s.slice(from, nl); n += l.length; from = nl + 1; } return n; });
b('JSON.parse 1MiB lines', () => { let from = 0, n = 0; for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', from)) { const l = JSON.parse(s.slice(from, nl)); from = nl + 1; } return n; });
const u = chunk.toString('utf8');
b('JSON.parse 1MiB lines (utf8-decoded string)', () => { let from = 0, n = 0; for (let nl = u.indexOf('\n'); nl !== -1; nl = u.indexOf('\n', from)) { const l = JSON.parse(u.slice(from, nl)); from = nl + 1; } return n; });
console.log('lines per MiB', s.split('\n').length);
