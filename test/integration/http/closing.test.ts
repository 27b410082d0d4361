import Fastify from 'fastify';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../src/http/error-handler.js';
import { delay } from '../../support/poll.js';

describe('a request that arrives while the server closes', () => {
  it('gets a JSON 503 with a code, Retry-After, its request id and Connection: close; the one in flight is answered', async () => {
    // The options buildServer uses.
    const app = Fastify({ return503OnClosing: false, forceCloseConnections: 'idle' });
    installErrorHandling(app);
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    app.get('/slow', async () => {
      started();
      await new Promise<void>((resolve) => (release = resolve));
      return { ok: true };
    });
    app.get('/fast', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };

    // One kept-alive connection, written by hand so that the second request surely arrives
    // after close() began, on a socket that close() could not drop (it was busy).
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const socketClosed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: payflux\r\n\r\n');
    await inFlight;
    const closed = app.close();
    socket.write('GET /fast HTTP/1.1\r\nHost: payflux\r\n\r\n');
    await delay(50);
    release();
    await closed;
    await socketClosed;

    const [first = '', second = ''] = text.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first.endsWith('{"ok":true}')).toBe(true);
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(second).toMatch(/\r\nx-request-id: \S+\r\n/i);
    expect(second).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'PF_ERR_SHUTTING_DOWN', message: expect.stringContaining('shutting down') },
    });
  });
});
