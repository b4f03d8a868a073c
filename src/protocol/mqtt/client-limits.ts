import type { Clock } from '../../clock.js';
import { KeyedBuckets, TokenBucket } from '../throttle/token-bucket.js';

/**
 * AWS IoT's per-client MQTT limits (device-security.md §7; decision 0042), always on: CONNECTs per
 * second per client id, and publishes per second per connection. Each client has buckets of its
 * own, so a noisy device slows only itself.
 */
export interface MqttClientLimits {
  /** CONNECT attempts per second per client id (AWS: 1), and how many may come at once. */
  connectsPerSecond: number;
  connectBurst: number;
  /** Inbound PUBLISHes per second per connection (AWS: 100); the excess is discarded. */
  publishesPerSecond: number;
  publishBurst: number;
}

export const AWS_MQTT_LIMITS: MqttClientLimits = { connectsPerSecond: 1, connectBurst: 5, publishesPerSecond: 100, publishBurst: 100 };

export class ClientLimiter {
  private readonly connects: KeyedBuckets<string>;
  private readonly publishes = new WeakMap<object, TokenBucket>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: MqttClientLimits = AWS_MQTT_LIMITS,
  ) {
    this.connects = new KeyedBuckets(limits.connectsPerSecond, limits.connectBurst);
  }

  /** Whether a CONNECT for `clientId` may go on now (each attempt counts, refused or not). */
  connect(clientId: string): boolean {
    return this.connects.take(clientId, this.clock.now());
  }

  /** Whether this connection's PUBLISH is within its rate; false means it is discarded. */
  publish(connection: object): boolean {
    const now = this.clock.now();
    let bucket = this.publishes.get(connection);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.publishesPerSecond, this.limits.publishBurst, now);
      this.publishes.set(connection, bucket);
    }
    return bucket.take(now);
  }
}
