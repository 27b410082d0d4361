/**
 * Which Redis failures mean "the store is unavailable, retry later" rather than a bug. ioredis
 * rejects a closed or unwritable connection with plain `Error`s whose only mark is the message
 * (`CONNECTION_CLOSED_ERROR_MSG` and friends), so those are matched here, in one place.
 */
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';

const UNAVAILABLE =
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Reached the max retries|Command timed out/;

export function isRedisUnavailable(err: Error): boolean {
  return err instanceof MaxRetriesPerRequestError || UNAVAILABLE.test(err.message);
}
