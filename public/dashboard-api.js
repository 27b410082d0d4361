// The dashboard's only way to the server: the key from sessionStorage as a bearer token on every
// call, including the live stream. EventSource cannot send headers, so the stream is read with
// fetch() and parsed here (server-sent events: `event:` and `data:` lines, frames end with a blank line).

const KEY_STORAGE = 'payflux.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (k) => sessionStorage.setItem(KEY_STORAGE, k),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

let unauthorized = () => {};

/** What to do when the server refuses the key (show the key form). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export class Unauthorized extends Error {}

function headers(json) {
  const h = { authorization: 'Bearer ' + apiKey.get() };
  if (json) h['content-type'] = 'application/json';
  return h;
}

/** JSON from `path` (relative to /pilot/); throws with the server's message. */
export async function api(path, init) {
  const res = await fetch(path, Object.assign({}, init, { headers: headers(Boolean(init && init.body)) }));
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    apiKey.clear();
    unauthorized();
    throw new Unauthorized('unauthorized');
  }
  if (!res.ok) throw new Error((body.error && body.error.message) || 'request failed (' + res.status + ')');
  return body;
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Reads `processors/stream` until `signal` aborts, reconnecting with backoff (1 s doubling to
 * 30 s) when it ends or fails. `onState(snapshot)` per state frame; `onLink(up)` as the
 * connection comes and goes.
 */
export async function streamState(onState, onLink, signal) {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const res = await fetch('processors/stream', { headers: headers(false), signal, cache: 'no-store' });
      if (res.status === 401) {
        apiKey.clear();
        unauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error('stream answered ' + res.status);
      onLink(true);
      attempt = 0;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (event === 'state' && data) onState(JSON.parse(data));
        }
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    onLink(false);
    await sleep(Math.min(30000, 1000 * 2 ** attempt), signal);
  }
}
