import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedBuckets, TokenBucket } from '../../src/protocol/throttle/token-bucket.js';

describe('token bucket', () => {
  it('allows a burst, then the rate, refilled continuously and never above the burst', () => {
    const b = new TokenBucket(2, 3, 0);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(499), false);
    assert.equal(b.take(500), true, 'one token every 500 ms at 2/s');
    assert.equal(b.take(500), false);
    assert.equal(b.full(100_000), true);
    assert.deepEqual([b.take(100_000), b.take(100_000), b.take(100_000), b.take(100_000)], [true, true, true, false], 'a long pause refills the burst, no more');
  });

  it('refills nothing when the clock goes back', () => {
    const b = new TokenBucket(1, 1, 10_000);
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(5_000), false);
    assert.equal(b.take(5_999), false);
    assert.equal(b.take(6_000), true);
  });

  it('keeps one bucket per key and forgets the full ones', () => {
    const k = new KeyedBuckets<string>(1, 1, 4);
    assert.equal(k.take('a', 0), true);
    assert.equal(k.take('a', 0), false);
    assert.equal(k.take('b', 0), true, 'another key has its own allowance');
    assert.equal(k.size, 2);
    assert.equal(k.take('c', 5_000), true, 'the fourth take sweeps the full buckets first');
    assert.equal(k.size, 1);
  });
});
