import type { Logger } from 'pino';
import type { Arns } from '../domain/arns.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';

/** Certificates looked up per query. */
const CHUNK = 500;

/**
 * Decision 0033 across instances: an instance closes its own connections when a certificate is
 * revoked or detached through its API at once; this sweep, run on every engine step (at least once a
 * second) by instances that share a PostgreSQL database, closes those whose change came through
 * another instance — the live TLS connections whose certificate is no longer ACTIVE, or no longer
 * attached to the connection's thing.
 */
export function certificateSweep(deps: {
  store: Store;
  arns: Arns;
  connected: () => { certificateId: string; thingName: string }[];
  disconnect: (certificateId: string, thingName?: string) => number;
  log: Logger;
}): Reconciler {
  return {
    name: 'certificate-sweep',
    async run() {
      const live = deps.connected();
      if (live.length === 0) return false;
      const thingsOf = new Map<string, string[]>();
      for (const c of live) thingsOf.set(c.certificateId, [...(thingsOf.get(c.certificateId) ?? []), c.thingName]);
      const ids = [...thingsOf.keys()];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const active = await deps.store.certificates.activeAmong(chunk);
        const attached = new Set((await deps.store.thingPrincipals.attachmentsOf(chunk.map((id) => deps.arns.certificate(id)))).map((a) => `${a.principal} ${a.thing_name}`));
        for (const id of chunk) {
          if (!active.has(id)) {
            if (deps.disconnect(id) > 0) deps.log.info({ certificateId: id }, 'certificate no longer ACTIVE (changed on another instance): its connections closed');
            continue;
          }
          for (const thing of thingsOf.get(id)!) {
            // '' is a connection whose thing was not attached at CONNECT: its policies let it in, no detach concerns it.
            if (thing !== '' && !attached.has(`${deps.arns.certificate(id)} ${thing}`)) deps.disconnect(id, thing);
          }
        }
      }
      return false;
    },
    nextDueAt: async () => undefined,
  };
}
