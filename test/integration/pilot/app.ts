/** A real Fastify server on a loopback port with the error contract and whatever plugins a test registers. */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { installErrorHandling, requestIdFor } from '../../../src/http/error-handler.js';
import { PayFluxError } from '../../../src/errors.js';
import type { Suite } from '../../support/use-suite.js';

export const API_KEY = 'pilot-test-key-0123456789';

/** Stands in for the root's bearer auth: one fixed key. */
export async function authenticate(req: FastifyRequest): Promise<void> {
  if (req.headers.authorization !== `Bearer ${API_KEY}`) throw new PayFluxError('PF_ERR_UNAUTHORIZED');
}

export interface TestServer {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

/** Listen on a free loopback port; closed after the test (after the file, from a `beforeAll`). */
export async function listen(s: Suite, register: (app: FastifyInstance) => PromiseLike<unknown>): Promise<TestServer> {
  const app = Fastify({ logger: false, genReqId: requestIdFor });
  installErrorHandling(app);
  await register(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  s.defer(() => app.close());
  return { app, url: address, close: () => app.close() };
}
