/**
 * The dedup key of an event: 96 bits of SHA-1 over the canonical event id, base64url (16 chars).
 *
 * Why a digest and not the id: dedup marks are the largest Redis cost per event (one key with a
 * TTL for the whole dedup window). A fixed 16-char key keeps every mark in the same small
 * allocation whatever the id's length (UUIDs are 36 chars, idempotency keys up to 128), and
 * 96 bits make an accidental collision (which would drop an event as a duplicate) negligible:
 * about 1 in 10^13 after a billion events in one window. Sizing is in docs/operations.md.
 */
import { hash } from 'node:crypto';
import { canonicalEventId } from '../events/payment-event.js';

export function dedupKeyFor(eventId: string): string {
  return hash('sha1', canonicalEventId(eventId), 'base64url').slice(0, 16);
}
