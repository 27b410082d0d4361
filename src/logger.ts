/**
 * The process logger: pino JSON on stderr (stdout carries export lines only), secrets and
 * request bodies redacted wherever a log call might carry them.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { stderrDestination } from './log-destination.js';

export function createLogger(level: Config['logLevel']): Logger {
  // Logs go to stderr: stdout carries export lines only.
  return pino(
    {
      level,
      base: { service: 'payflux' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-payflux-key"]',
          'headers.authorization',
          'body',
          'req.body',
        ],
        remove: true,
      },
    },
    stderrDestination(),
  );
}
