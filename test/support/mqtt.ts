import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { seedThing } from './jobs.js';
import type { TestServer } from './server.js';

/**
 * A device over MQTT with mqtt.js, as tests drive it: every message it receives is kept, requests
 * are matched to their replies by clientToken (as the AWS device SDKs do), and a test waits for
 * the message it expects without sleeping.
 */
export interface Received {
  topic: string;
  payload: string;
  json?: Record<string, unknown>;
}

export class TestDevice {
  readonly received: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  private constructor(readonly client: MqttClient, readonly thingName: string) {
    client.on('message', (topic, payload) => {
      const m: Received = { topic, payload: payload.toString('utf8') };
      try {
        m.json = JSON.parse(m.payload) as Record<string, unknown>;
      } catch {
        /* kept as text */
      }
      // One message goes to one waiter (the oldest that wants it); otherwise it is kept for a
      // later next().
      const w = this.waiters.find((x) => x.match(m));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      } else {
        this.received.push(m);
      }
    });
  }

  static async connect(url: string, thingName: string, options: IClientOptions = {}): Promise<TestDevice> {
    const client = await mqtt.connectAsync(url, { clientId: thingName, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
    return new TestDevice(client, thingName);
  }

  topic(suffix: string): string {
    return `$aws/things/${this.thingName}/${suffix}`;
  }

  /** Subscribes and answers the granted QoS of each filter (128: refused; mqtt.js reports that as an error too). */
  subscribe(...filters: string[]): Promise<number[]> {
    const topics = filters.map((f) => (f.startsWith('$aws/') || f === '#' ? f : this.topic(f)));
    return new Promise((resolve, reject) => {
      this.client.subscribe(topics, { qos: 1 }, (err, granted) => {
        // On a refusal mqtt.js keeps the SUBACK's codes on the error.
        const codes = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted;
        if (codes) resolve(codes);
        else if (!err && granted) resolve(granted.map((g) => g.qos));
        else reject(err ?? new Error('no SUBACK'));
      });
    });
  }

  /** The first message (already received or still to come) that `match` accepts. */
  next(match: (m: Received) => boolean, timeoutMs = 5000): Promise<Received> {
    const seen = this.received.find(match);
    if (seen) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: Received) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        // A waiter that gave up must not swallow a message that comes later.
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(new Error(`${this.thingName}: no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((r) => r.topic))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Publishes a jobs or shadow request under this thing and waits for its accepted or rejected reply. */
  async request(suffix: string, body: Record<string, unknown> = {}): Promise<{ accepted: boolean; body: Record<string, unknown> }> {
    const clientToken = randomUUID();
    const topic = this.topic(suffix);
    const reply = this.next((m) => (m.topic === `${topic}/accepted` || m.topic === `${topic}/rejected`) && m.json?.clientToken === clientToken);
    await this.client.publishAsync(topic, JSON.stringify({ ...body, clientToken }), { qos: 1 });
    const m = await reply;
    return { accepted: m.topic.endsWith('/accepted'), body: m.json! };
  }

  /** Publishes raw bytes (malformed payloads) and waits for the reply on `topic`'s accepted/rejected. */
  async raw(suffix: string, payload: string | Buffer): Promise<Received> {
    const topic = this.topic(suffix);
    const reply = this.next((m) => m.topic === `${topic}/accepted` || m.topic === `${topic}/rejected`);
    await this.client.publishAsync(topic, payload, { qos: 1 });
    return reply;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Connects mqtt.js once (no retry) and tells whether a CONNACK came (true) or the socket was closed without one (false). */
export function tryConnect(url: string, clientId: string): Promise<{ connected: boolean; client: MqttClient }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    client.once('connect', () => resolve({ connected: true, client }));
    client.once('close', () => resolve({ connected: false, client }));
    client.on('error', () => undefined);
  });
}

/** SUBACK codes for filters as given (TestDevice.subscribe puts other filters under the thing's own topics). */
export function subscribeRaw(d: TestDevice, ...filters: string[]): Promise<number[]> {
  return new Promise<number[]>((resolve, reject) => {
    d.client.subscribe(filters, { qos: 1 }, (err, granted) => {
      const codes = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted ?? granted?.map((g) => g.qos);
      if (codes) resolve(codes);
      else reject(err ?? new Error('no SUBACK'));
    });
  });
}

/** A suite's devices: each thing registered on the control plane, then connected; all closed at the end. */
export class SuiteDevices {
  private readonly devices: TestDevice[] = [];

  async connect(t: TestServer, thingName: string): Promise<TestDevice> {
    await seedThing(t, thingName);
    const d = await TestDevice.connect(t.server.mqttUrl!, thingName);
    this.devices.push(d);
    return d;
  }

  async closeAll(): Promise<void> {
    for (const d of this.devices) await d.close().catch(() => undefined);
  }
}
