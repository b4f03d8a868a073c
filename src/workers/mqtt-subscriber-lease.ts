import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';

/** The one lease row: whoever holds it subscribes to the device requests on the external broker. */
export const MQTT_SUBSCRIBER_LEASE = 'mqtt-subscriber';

/** The external-broker door as this reconciler drives it (protocol/mqtt/external-broker.ts). */
export interface RequestSubscriber {
  serve(on: boolean): Promise<void>;
}

/**
 * On a broker without `$share` on `$` topics (Mosquitto), one node at a time holds plain
 * subscriptions to the device requests (devices-and-engine.md §3). The holder renews its lease a
 * third of the way through; a stand-by node tries again when the holder's lease would lapse, so
 * it serves devices within one lease of the holder's death. A node that cannot renew (its
 * database is unreachable) stops serving once its own lease has run out, so two nodes never
 * answer the same requests for longer than the clocks disagree.
 */
export function mqttSubscriberLease(deps: { store: Store; clock: Clock; holder: string; leaseMs: number; subscriber: RequestSubscriber; log: Logger }): Reconciler & {
  release(): Promise<void>;
} {
  let dueAt = 0;
  let heldUntil = 0;
  const renewEvery = Math.max(1, Math.floor(deps.leaseMs / 3));
  return {
    name: 'mqtt-subscriber-lease',
    async run() {
      const now = deps.clock.now();
      if (now < dueAt) return false;
      let held: boolean;
      try {
        held = await deps.store.leases.claim(MQTT_SUBSCRIBER_LEASE, deps.holder, now, now + deps.leaseMs);
        if (held) heldUntil = now + deps.leaseMs;
      } catch (err) {
        deps.log.warn({ err }, 'cannot renew the MQTT subscriber lease');
        held = now < heldUntil;
      }
      await deps.subscriber.serve(held);
      if (held) dueAt = now + renewEvery;
      else {
        // Stand-by: look again when the holder's lease lapses, and at least every third of a lease.
        const until = await deps.store.leases.until(MQTT_SUBSCRIBER_LEASE).catch(() => undefined);
        dueAt = Math.min(now + renewEvery, until !== undefined && until > now ? until : now + renewEvery);
      }
      return false;
    },
    nextDueAt: async () => dueAt,
    /** At shutdown: stop serving, and let a stand-by node take over at its next look. */
    async release() {
      await deps.subscriber.serve(false);
      if (heldUntil > 0) await deps.store.leases.release(MQTT_SUBSCRIBER_LEASE, deps.holder).catch(() => undefined);
      heldUntil = 0;
    },
  };
}
