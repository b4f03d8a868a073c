import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { ExternalBrokerConfig } from '../../config/config.js';
import { parseRequestTopic, thingOfTopic, type DeviceRequest } from './topics.js';
import type { MqttStats, MqttTransport } from './transport.js';

/**
 * External-broker mode (devices-and-engine.md §3): fleetjobs connects to a broker that already
 * runs (Mosquitto, EMQX, ...) as one backend client and serves the device topics through it.
 *
 * - The broker authenticates devices and pins each to its own topics (its ACL; `fleetjobs
 *   mosquitto-acl` prints one for Mosquitto). A request's thing is the one its topic names.
 * - The backend subscribes to the request topics, and to all of `…/jobs/#` so that a topic AWS
 *   does not serve gets its InvalidTopic reply. It never answers what it published itself: over
 *   MQTT 5 its subscriptions are No Local (the broker does not send its own publishes back), and
 *   whatever comes back anyway (MQTT 3.1.1, `$share`) is a reply or a notification, which
 *   parseRequestTopic refuses to read as a request.
 * - Mosquitto never delivers `$share/…` for topics that start with `$`. A self-test at connect
 *   finds out: where shared subscriptions work, every node subscribes through `$share` and
 *   serves; elsewhere one node at a time holds plain subscriptions, as the lease in the database
 *   decides (workers/mqtt-subscriber-lease.ts calls `serve`).
 * - Replies are publishes to `…/accepted` and `…/rejected`: on an external broker a device
 *   receives them only if it subscribed, as the Device SDKs do.
 */
export const REQUEST_FILTERS = [
  // Every publish under jobs/: a topic AWS does not serve gets its InvalidTopic reply, as on AWS.
  '$aws/things/+/jobs/#',
  '$aws/things/+/shadow/get',
  '$aws/things/+/shadow/update',
  '$aws/things/+/shadow/delete',
  '$aws/things/+/shadow/name/+/get',
  '$aws/things/+/shadow/name/+/update',
  '$aws/things/+/shadow/name/+/delete',
];

const SHARE_GROUP = 'fleetjobs';
/** Requests being answered at once; beyond it the client stops reading from the broker. */
const MAX_IN_FLIGHT = 256;
const SELF_TEST_MS = 1000;

export interface ExternalBrokerOptions {
  broker: ExternalBrokerConfig;
  /** This process: the client id is `fleetjobs-{nodeId}`. */
  nodeId: string;
  log: Logger;
  onRequest: (request: DeviceRequest, topic: string, payload: Buffer, reply: (topic: string, payload: string) => void) => Promise<void>;
  /** How long the `$share` self-test waits for its probe (tests shorten it). */
  selfTestMs?: number;
}

export interface ExternalBroker {
  url: string;
  transport: MqttTransport;
  stats(): MqttStats;
  /** The broker delivers `$share` subscriptions on `$aws/…`: every node serves, no lease needed. */
  readonly shared: boolean;
  /** Whether this node holds the request subscriptions now. */
  readonly serving: boolean;
  /** Takes (true) or gives up (false) the request subscriptions; the lease holder serves. */
  serve(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export class MqttBrokerUnreachableError extends Error {
  /** An operational failure: the CLI prints the message alone. */
  readonly code = 'EMQTTBROKER';
}

export async function connectExternalBroker(o: ExternalBrokerOptions): Promise<ExternalBroker> {
  const options: IClientOptions = {
    clientId: `fleetjobs-${o.nodeId}`,
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // Subscriptions this node holds are made again after a reconnect (clean session).
    resubscribe: true,
    ...(o.broker.username !== undefined ? { username: o.broker.username } : {}),
    ...(o.broker.password !== undefined ? { password: o.broker.password } : {}),
  };
  let client: MqttClient;
  try {
    // No retries at start: a wrong URL or password fails the start with its reason. MQTT 5 first
    // (No Local), else 3.1.1 for brokers that refuse 5.
    client = await mqtt.connectAsync(o.broker.url, { ...options, protocolVersion: 5 }, false).catch(async (err: Error) => {
      if (!/protocol version|unsupported protocol/i.test(err.message)) throw err;
      return mqtt.connectAsync(o.broker.url, options, false);
    });
  } catch (err) {
    throw new MqttBrokerUnreachableError(`cannot connect to the MQTT broker at ${redact(o.broker.url)}: ${(err as Error).message}`);
  }
  const v5 = client.options.protocolVersion === 5;
  client.on('error', (err) => o.log.warn({ err: err.message }, 'MQTT broker connection error; reconnecting'));
  client.on('offline', () => o.log.warn('MQTT broker unreachable; reconnecting'));

  const probeTopic = `$aws/fleetjobs/share-probe/${o.nodeId}`;
  let probed: (() => void) | undefined;
  const chains = new Map<string, Promise<void>>();
  let inFlight = 0;
  let drained: (() => void) | undefined;

  let received = 0;
  let sent = 0;
  const publish = (topic: string, payload: string) => {
    sent++;
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (err) o.log.warn({ err: err.message, topic }, 'MQTT publish failed');
    });
  };

  /** One thing's requests in the order they came; different things' at once, up to MAX_IN_FLIGHT. */
  const accept = (topic: string, payload: Buffer): void => {
    if (topic === probeTopic) {
      probed?.();
      return;
    }
    const request = parseRequestTopic(topic);
    // Only request topics are subscribed; anything else (a reply, a notification) is never answered.
    if (!request) return;
    received++;
    const thing = thingOfTopic(topic)!;
    inFlight++;
    const previous = chains.get(thing) ?? Promise.resolve();
    const next = previous
      .then(() => o.onRequest(request, topic, payload, publish))
      .catch((err: unknown) => o.log.error({ err, topic }, 'MQTT request failed'))
      .finally(() => {
        inFlight--;
        if (chains.get(thing) === next) chains.delete(thing);
        if (inFlight < MAX_IN_FLIGHT && drained) {
          const d = drained;
          drained = undefined;
          d();
        }
      });
    chains.set(thing, next);
  };
  // mqtt.js reads the next packet once `done` is called: back-pressure when too much is in flight.
  client.handleMessage = (packet, done) => {
    if (packet.cmd === 'publish') {
      accept(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      if (inFlight >= MAX_IN_FLIGHT) {
        drained = () => done();
        return;
      }
    }
    done();
  };

  const shared = await shareSelfTest(client, probeTopic, o.selfTestMs ?? SELF_TEST_MS, (resolve) => (probed = resolve));
  probed = undefined;
  // Debug, like the first serve: the server's first line of output is its banner.
  o.log.debug({ broker: redact(o.broker.url), shared }, shared ? 'MQTT broker delivers $share on $aws topics: every node serves devices' : 'MQTT broker does not deliver $share on $aws topics: the node holding the lease serves devices');

  let serving = false;
  let changes = 0;
  let change: Promise<void> = Promise.resolve();
  const filters = shared ? REQUEST_FILTERS.map((f) => `$share/${SHARE_GROUP}/${f}`) : REQUEST_FILTERS;

  const door: ExternalBroker = {
    url: redact(o.broker.url),
    transport: { publish },
    stats: () => ({ connections: client.connected ? 1 : 0, received, sent }),
    shared,
    get serving() {
      return serving;
    },
    serve(on: boolean) {
      change = change.then(async () => {
        if (on === serving) return;
        if (on) {
          // No Local is a protocol error on a shared subscription (MQTT 5 §3.8.3.1).
          await client.subscribeAsync(filters, { qos: 1, ...(v5 && !shared ? { nl: true } : {}) });
          o.log[changes === 0 ? 'debug' : 'info']('serving device requests from the MQTT broker');
        } else {
          await client.unsubscribeAsync(filters);
          o.log.info('stopped serving device requests: another node holds the lease');
        }
        serving = on;
        changes++;
      });
      return change;
    },
    async close() {
      await change.catch(() => undefined);
      await Promise.allSettled([...chains.values()]);
      await client.endAsync();
    },
  };
  if (shared) await door.serve(true);
  return door;
}

/**
 * Whether the broker delivers a `$share` subscription on a `$` topic: subscribe through a group
 * of our own, publish one probe, and wait briefly for it.
 */
async function shareSelfTest(client: MqttClient, topic: string, ms: number, onProbe: (resolve: () => void) => void): Promise<boolean> {
  const filter = `$share/${SHARE_GROUP}-probe/${topic}`;
  try {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    if (granted.some((g) => g.qos === 128)) return false;
  } catch {
    return false;
  }
  const delivered = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    onProbe(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  await client.publishAsync(topic, 'probe', { qos: 1 });
  const ok = await delivered;
  await client.unsubscribeAsync(filter).catch(() => undefined);
  return ok;
}

/** The URL without its password, for logs and errors. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
