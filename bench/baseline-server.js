/**
 * The single-event ingest baseline: an empty Fastify POST handler that validates the
 * same JSON schema as PayFlux (imported from dist/events.js) and answers 202. No auth, no
 * dedup, no storage: the ceiling of "Fastify + the compiled schema" on this machine.
 *
 * BENCH_PORT chooses the port (127.0.0.1 only); GET /health answers when it is listening.
 */
import Fastify from 'fastify';
import { paymentEventSchema } from '../dist/events/payment-event.js';

const port = Number(process.env.BENCH_PORT ?? 0);
const processors = ['stripe', 'adyen', 'checkout', 'internal'];
const app = Fastify({ logger: false, bodyLimit: 1_048_576 });

app.get('/health', async () => ({ status: 'ok' }));
app.post('/v1/events/payment_exhaust', { schema: { body: paymentEventSchema(processors) } }, (_req, reply) => {
  reply.code(202).send();
});

await app.listen({ host: '127.0.0.1', port });
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
