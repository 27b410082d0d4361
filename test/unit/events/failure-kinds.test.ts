import { describe, expect, it } from 'vitest';
import { isAuthFailure, isFailure, isTimeout } from '../../../src/events/failure-kinds.js';

describe('event classification', () => {
  it('counts payment_failed or any failure_category as a failure', () => {
    expect(isFailure({ event_type: 'payment_failed', failure_category: undefined })).toBe(true);
    expect(isFailure({ event_type: 'payment_succeeded', failure_category: 'card_declined' })).toBe(true);
    expect(isFailure({ event_type: 'payment_succeeded', failure_category: '' })).toBe(false);
    expect(isFailure({ event_type: 'refund_created', failure_category: undefined })).toBe(false);
  });

  it.each([
    ['gateway_timeout', true],
    ['TIMEOUT', true],
    ['processor-timeout-5xx', true],
    ['timeoutish', false],
    ['card_declined', false],
    [undefined, false],
  ])('timeout(%j) = %s, by whole token', (c, want) => expect(isTimeout(c)).toBe(want));

  it.each([
    ['auth_failure', true],
    ['authentication_required', true],
    ['3ds_failed', true],
    ['3DS2_challenge_failed', true],
    ['sca_required', true],
    ['author_mismatch', false],
    ['authorization_declined', false],
    ['oauth_token', false],
    [undefined, false],
  ])('auth failure(%j) = %s, by whole token', (c, want) => expect(isAuthFailure(c)).toBe(want));
});
