/**
 * The single-event ingest baselines: Fastify validating the same JSON schema as PayFlux
 * (imported from dist/) on the same route, answering 202. No auth, no dedup, no rate limit.
 *
 * - Without BENCH_REDIS_ADDR, the empty handler: nothing stored, the ceiling of "Fastify + the
 *   compiled schema" on this machine.
 * - With BENCH_REDIS_ADDR (host:port) and BENCH_STREAM, the minimal durable handler: one XADD of
 *   the body as JSON (field `e`) per request through ioredis with `enableAutoPipelining`, and
 *   the 202 only once Redis has answered. The least a durable ingest can do per request.
 *
 * BENCH_PORT chooses the port (127.0.0.1 only); GET /health answers when it is listening (and,
 * for the durable handler, once Redis is connected).
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { paymentEventSchema } from '../dist/events/payment-event.js';

const port = Number(process.env.BENCH_PORT ?? 0);
const redisAddr = process.env.BENCH_REDIS_ADDR;
const stream = process.env.BENCH_STREAM ?? 'bench:baseline:events';
const processors = ['stripe', 'adyen', 'checkout', 'internal'];
const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
const schema = { body: paymentEventSchema(processors) };

let redis;
if (redisAddr) {
  const [host, redisPort] = redisAddr.split(':');
  redis = new Redis({ host, port: Number(redisPort), enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  await redis.ping();
  app.post('/v1/events/payment_exhaust', { schema }, async (req, reply) => {
    await redis.xadd(stream, '*', 'e', JSON.stringify(req.body));
    return reply.code(202).send();
  });
} else {
  app.post('/v1/events/payment_exhaust', { schema }, (_req, reply) => {
    reply.code(202).send();
  });
}
app.get('/health', async () => ({ status: 'ok' }));

await app.listen({ host: '127.0.0.1', port });
const stop = () =>
  app
    .close()
    .then(() => redis?.quit())
    .finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
