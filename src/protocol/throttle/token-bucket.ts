/**
 * A token bucket (decision 0040): `burst` tokens at most, refilled continuously at `perSecond`,
 * one taken per request. Time is the caller's (an injected clock's milliseconds), so tests move
 * it instead of sleeping. Nothing is kept but two numbers; a bucket never times out by itself.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Takes one token if there is one; false when the rate is exceeded (nothing taken then). */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket is full again at `now` (it can be forgotten: a new one would be the same). */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    // A clock set back (a test's, or the wall clock stepped) refills nothing and is taken as the new mark.
    const elapsed = Math.max(0, now - this.at);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    this.at = now;
  }
}

/**
 * One bucket per key (a client id, a connection), made on first use and dropped once full again, so
 * a million devices that each connected once hold no memory. The sweep runs every `sweepEvery` takes.
 */
export class KeyedBuckets<K> {
  private readonly buckets = new Map<K, TokenBucket>();
  private takes = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly sweepEvery = 10_000,
  ) {}

  take(key: K, now: number): boolean {
    if (++this.takes % this.sweepEvery === 0) this.sweep(now);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.burst, now);
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  forget(key: K): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(key);
  }
}
