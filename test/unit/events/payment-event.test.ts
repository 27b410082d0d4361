import { describe, expect, it } from 'vitest';
import { canonicalEventId } from '../../../src/events/payment-event.js';

describe('the payment event', () => {
  it('canonicalises UUIDs to lower case and leaves other ids alone', () => {
    expect(canonicalEventId('3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toBe('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(canonicalEventId('evt_ABC')).toBe('evt_ABC');
  });
});
