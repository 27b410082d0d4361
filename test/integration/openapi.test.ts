/**
 * `/openapi.json`: a valid OpenAPI 3.1 document (checked with @seriousme/openapi-schema-validator
 * against the official schemas), served without a key, with Swagger UI at `/docs` from the
 * package; and the live answers of the main routes match the schemas it declares for them.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, post, useApp } from '../support/app.js';
import { event } from '../support/events.js';
import { poll } from '../support/poll.js';

const suite = useApp({ PAYFLUX_PILOT_MODE: 'true', STRIPE_WEBHOOK_SECRET: 'whsec_test_0123456789' });

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};
let doc: Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true });

beforeAll(async () => {
  const res = await fetch(`${suite.app.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
  ajv.addSchema(doc, 'openapi.json');
});

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The compiled schema the document declares for `method path` answering `status` as JSON. */
function responseSchema(method: string, path: string, status: number): ValidateFunction | undefined {
  const response = doc.paths[path]?.[method]?.responses[String(status)];
  expect(response, `${method.toUpperCase()} ${path} declares ${status}`).toBeDefined();
  if (response?.content?.['application/json'] === undefined) return undefined;
  const ref = `openapi.json#/${pointer('paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema')}`;
  return ajv.getSchema(ref);
}

/** Send the request, then hold the answer to the document: a declared status, a body that fits. */
async function conforms(
  method: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${suite.app.url}${path}`, { method: method.toUpperCase(), ...init });
  // Read every body: a connection with an unread one is never idle, and holds the server's close.
  const text = await res.text();
  const validate = responseSchema(method, path, res.status);
  if (validate !== undefined) {
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const ok = validate(JSON.parse(text));
    expect(validate.errors ?? [], `${method.toUpperCase()} ${path} ${res.status}: ${text}`).toEqual([]);
    expect(ok).toBe(true);
  }
  const isJson = res.headers.get('content-type')?.startsWith('application/json') === true;
  return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(text) : text };
}

const json = (body: unknown, key = TEST_KEY): RequestInit => ({
  headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
  body: JSON.stringify(body),
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route PayFlux serves here, and its schemas compile', () => {
    for (const path of [
      '/health',
      '/ready',
      '/metrics',
      '/v1/events/payment_exhaust',
      '/v1/events/batch',
      '/export/health',
      '/v1/risk/processors',
      '/pilot/warnings',
      '/pilot/warnings/{id}/outcome',
      '/api/v1/risk',
      '/v1/webhooks/stripe',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods))
        for (const [status, r] of Object.entries(op.responses))
          if (r.content?.['application/json'] !== undefined)
            expect(responseSchema(method, path, Number(status)), `${method} ${path} ${status}`).toBeTypeOf('function');
  });

  it('is served with its docs page without a key, the page’s assets from PayFlux itself', async () => {
    const page = await fetch(`${suite.app.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(1);
    for (const a of assets) {
      expect(a, 'no CDN').not.toMatch(/^(https?:)?\/\//);
      const res = await fetch(new URL(a, `${suite.app.url}/docs/`));
      await res.arrayBuffer();
      expect(res.status, a).toBe(200);
    }
  });
});

describe('live answers match the document', () => {
  it('for the operations routes', async () => {
    await conforms('get', '/health');
    await poll(
      'ready',
      async () => (await conforms('get', '/ready')).status === 200,
      (ok) => ok,
      { timeoutMs: 5000 },
    );
    await conforms('get', '/ready');
    await conforms('get', '/export/health');
    const metrics = await conforms('get', '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('for ingest, accepted and refused', async () => {
    const single = '/v1/events/payment_exhaust';
    expect((await conforms('post', single, json(event()))).status).toBe(202);
    expect((await conforms('post', single, json({ ...event(), retry_count: 'x' }))).status).toBe(400);
    expect((await conforms('post', single, json(event(), 'not-a-key-0000000000'))).status).toBe(401);
    const text = { headers: { 'content-type': 'text/plain', authorization: `Bearer ${TEST_KEY}` }, body: 'x' };
    expect((await conforms('post', single, text)).status).toBe(415);
    const batch = await conforms('post', '/v1/events/batch', json([event(), { event_id: '' }]));
    expect(batch.body).toMatchObject({ accepted: 1, rejected: [{ index: 1 }] });
  });

  it('for the processors’ live risk', async () => {
    await (await post(`${suite.app.url}/v1/events/payment_exhaust`, event({ processor: 'adyen' }))).arrayBuffer();
    const auth = { headers: { authorization: `Bearer ${TEST_KEY}` } };
    await poll(
      'a scored processor',
      async () =>
        ((await (await fetch(`${suite.app.url}/v1/risk/processors`, auth)).json()) as { processors: unknown[] })
          .processors.length > 0,
      (ok) => ok,
      { timeoutMs: 5000 },
    );
    expect((await conforms('get', '/v1/risk/processors', auth)).status).toBe(200);
    expect((await conforms('get', '/v1/risk/processors')).status).toBe(401);
  });
});
