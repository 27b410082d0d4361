/**
 * Local HTTP "merchant sites" for the Risk API tests: a real server on 127.0.0.1 with a route
 * table, counting requests per path and TCP connections, so tests can assert what was fetched
 * and what never was.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Suite } from '../../support/use-suite.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FixtureSite {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly hits: Map<string, number>;
  connections: number;
  /** Replace or add routes. */
  route(path: string, handler: Handler): void;
  hitsOf(path: string): number;
  totalHits(): number;
  close(): Promise<void>;
}

export function html(body: string, status = 200): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body);
  };
}

export function redirect(location: string, status = 302): Handler {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

/** A site on a free loopback port; closed after the test (after the file, from a `beforeAll`). */
export async function startFixtureSite(s: Suite, routes: Record<string, Handler> = {}): Promise<FixtureSite> {
  const table = new Map<string, Handler>(Object.entries(routes));
  const hits = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = table.get(path);
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>not found</h1>');
      return;
    }
    handler(req, res);
  });
  const site: FixtureSite = {
    port: 0,
    origin: '',
    hits,
    connections: 0,
    route: (path, handler) => void table.set(path, handler),
    hitsOf: (path) => hits.get(path) ?? 0,
    totalHits: () => [...hits.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (socket: Socket) => {
    site.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(site, { port, origin: `http://127.0.0.1:${port}` });
  s.defer(() => site.close());
  return site;
}

/** A plausible merchant home page linking its policy pages. */
export function homePage(links: Record<string, string>, extra = ''): string {
  const nav = Object.entries(links)
    .map(([href, text]) => `<a href="${href}">${text}</a>`)
    .join(' | ');
  return `<!doctype html><html><head><title>Acme Outdoor Supply</title><style>body{color:red}</style></head><body>
<header><h1>Acme Outdoor Supply</h1><nav>${nav}</nav></header>
<main><p>Quality tents, backpacks and camping stoves since 1998. We ship across the country from our warehouse in Portland.
Every product is tested by our staff on real trips before it goes into the catalogue.</p>
<p>Browse our seasonal collection of lightweight gear for hikers, climbers and families who love the outdoors.</p>${extra}</main>
<script>var terms = "terms of service refund privacy policy";</script>
<footer>&copy; 2024 Acme Outdoor Supply &mdash; all rights reserved</footer></body></html>`;
}

export const TERMS_PAGE = `<html><head><title>Terms of Service</title></head><body><h1>Terms of Service</h1>
<p>These terms of use govern your purchases. Limitation of liability: our liability is limited to the purchase price.
Governing law: the laws of Oregon apply. Dispute resolution happens by binding arbitration in Portland.
We may suspend accounts (termination) for abuse. All intellectual property remains ours. You agree to indemnify us.</p></body></html>`;

export const PRIVACY_PAGE = `<html><head><title>Privacy Policy</title></head><body><h1>Privacy Policy</h1>
<p>This privacy policy explains how we process personal data. We collect personal information needed to ship orders,
share it with third parties only to deliver your parcel, and honour GDPR and CCPA requests. You can opt out of cookies.
Data retention: order records are kept for seven years for tax purposes.</p></body></html>`;

export const REFUND_PAGE = `<html><head><title>Refund &amp; Returns</title></head><body><h1>Refund Policy</h1>
<p>Our return policy: unused items may be returned within 30 days for a full refund or store credit.
Refunds are issued to the original payment method within 5 business days. Exchanges are free; return shipping is on us
for defective items. No restocking fee applies to unopened goods.</p></body></html>`;

export const CONTACT_PAGE = `<html><head><title>Contact us</title></head><body><h1>Contact Us</h1>
<p>Customer service is available Monday to Friday. Email us at help@acme-outdoor.example or call us on +1 503 555 0142.
Our mailing address is 12 River Street, Portland, OR 97201. Business hours: 9am to 5pm Pacific time, and we answer
every message within one working day, including questions about orders, sizing and warranty claims.</p></body></html>`;
