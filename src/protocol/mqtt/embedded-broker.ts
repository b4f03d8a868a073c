import { constants } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { peerCertificateDer } from '../peer-certificate.js';
import type { DeviceAuthorization } from '../../domain/policies/device-authorization.js';
import { DeviceSessions } from './device-sessions.js';
import type { ClientLimiter } from './client-limits.js';
import type { DeviceIdentity } from './identity.js';
import type { MqttStats, MqttTransport } from './transport.js';
import { parseRequestTopic, type DeviceRequest } from './topics.js';
import { batchWrites, writeBatchOf } from './write-batching.js';

/**
 * The embedded MQTT 3.1.1 broker (aedes 1.x; devices-and-engine.md §1), started by `fleetjobs
 * serve`. Each client is a principal (identity.ts) whose policies decide what it may do
 * (device-sessions.ts; by default its own `$aws/things/{thing}/` topics only): a refused CONNECT
 * gets CONNACK 5; a refused subscription SUBACK 0x80 and the client stays; a refused publish
 * closes the connection; nothing it may not receive is delivered to it. Requests
 * are answered as they are published, each client's in order, replies straight to the requester.
 */
export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  identity: DeviceIdentity;
  /** Binds each connection's policies (the policy engine, with `--default-device-policy`). */
  authorization: DeviceAuthorization;
  /** AWS's per-client CONNECT and PUBLISH rates (client-limits.ts), always on. */
  limiter: ClientLimiter;
  log: Logger;
  /**
   * The MQTT TLS listener (`--mqtt-tls-port`): the same broker, devices identified by their client
   * certificate (decision 0032); a refused CONNECT gets no CONNACK, the socket is closed.
   */
  tls?: { port: number; context: tls.SecureContextOptions; identity: DeviceIdentity };
  /** Answers a device's request; its reply is sent to `client` directly. */
  onRequest: (request: DeviceRequest, topic: string, payload: Buffer, reply: (topic: string, payload: string) => void) => Promise<void>;
  /** A thing's first connection opened or its last one closed (fleet indexing's connectivity). */
  onConnectivity?: (thingName: string, event: ConnectivityEvent) => void;
}

export interface ConnectivityEvent {
  connected: boolean;
  clientId: string;
  keepAlive?: number;
  cleanSession?: boolean;
  disconnectReason?: string;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** The MQTT TLS listener's URL and port, when it is on. */
  tlsUrl?: string;
  tlsPort?: number;
  /** Closes the connections made with this certificate (of `thingName` only, when given); answers how many. */
  disconnectCertificate(certificateId: string, thingName?: string): number;
  /** The live TLS connections' certificates and things (the certificate sweep checks them). */
  connectedCertificates(): { certificateId: string; thingName: string }[];
  /** Serves one more connection (a WebSocket's stream, websocket-door.ts) as the TCP listener's. */
  handle: (stream: Duplex, req?: IncomingMessage) => void;
  transport: MqttTransport;
  stats(): MqttStats;
  /** Test mode's reset: every client disconnected and every kept session forgotten, as in a fresh broker. */
  disconnectAll(): Promise<void>;
  close(): Promise<void>;
}

/** AWS IoT accepts keepalives up to 1200 s (the Device SDK's default). */
const KEEPALIVE_LIMIT_S = 1200;

export class MqttPortInUseError extends Error {
  /** An operational failure: the CLI prints the message alone. */
  readonly code = 'EADDRINUSE';
}

export async function startEmbeddedBroker(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  // concurrency 0: mqemitter hands every message on at once instead of queueing past 100 in
  // flight. Its queue drains by recursion (released → _do → released …), and a burst of 10,000
  // notify-next messages, one per released execution, overflowed the stack and killed the process
  // (mcollina/mqemitter#204). Each delivery is a socket write; nothing else waits on the limit.
  const broker = await Aedes.createBroker({ keepaliveLimit: KEEPALIVE_LIMIT_S, maxClientsIdLength: 128, concurrency: 0 });
  /** Each connection's principal and policies (the thing it acts for among them). */
  const sessions = new DeviceSessions<Client>(o.authorization, o.log, (client) => client.close());
  /** The client certificate each TLS client connected with. */
  const certificates = new Map<Client, string>();
  /** The keepalive each CONNECT asked for (fleet indexing's connectivity.keepAliveDuration). */
  const keepAlives = new WeakMap<Client, number>();
  const connected = new Map<string, number>();
  /**
   * Things whose clean=false session the broker keeps while they are away: what is published to
   * them waits in that session (QoS 1) and is delivered when they reconnect, as on AWS.
   */
  const persistent = new Set<string>();

  // One CONNECT per second per client id, as on AWS (decision 0042): two devices sharing an id,
  // each reconnecting as the other takes its session over, are slowed to that pace. The attempt is
  // refused by closing the socket, without CONNACK, as AWS does (disconnect reason THROTTLED).
  broker.preConnect = (client, packet, done) => {
    if (packet.keepalive !== undefined) keepAlives.set(client, packet.keepalive);
    const id = packet.clientId ?? '';
    if (id === '' || o.limiter.connect(id)) {
      done(null, true);
      return;
    }
    o.log.warn({ clientId: id, reason: 'THROTTLED' }, 'MQTT connection refused: more than one CONNECT per second for this client id');
    done(new Error('CONNECT rate exceeded for this client id'), false);
  };
  broker.authenticate = (client, username, password, done) => {
    const secure = o.tls !== undefined && client.conn instanceof TLSSocket ? client.conn : undefined;
    const certificate = secure ? peerCertificateDer(secure) : undefined;
    const identity = secure ? o.tls!.identity : o.identity;
    identity.identify({ clientId: client.id, username, password, ...(secure ? { certificate, secure: true } : {}) })
      .then(async (d): Promise<{ allowed: true; certificateId?: string } | { refused: string; certificateId?: string }> => {
        if (!('principal' in d)) return d;
        // The principal's policies decide iot:Connect (the default device policy when none is attached).
        const bound = await sessions.connect(client, d.principal);
        return 'allowed' in bound ? { allowed: true, certificateId: d.certificateId } : { refused: bound.refused, certificateId: d.certificateId };
      })
      .then(
      (d) => {
        if ('allowed' in d) {
          if (d.certificateId !== undefined) certificates.set(client, d.certificateId);
          done(null, true);
          return;
        }
        o.log.warn({ clientId: client.id, reason: d.refused, ...(d.certificateId ? { certificateId: d.certificateId } : {}), ...(secure ? { listener: 'tls' } : {}) }, 'MQTT connection refused');
        const err = Object.assign(new Error(d.refused), { returnCode: 5 }) as AuthenticateError;
        // On the TLS listener as on AWS: the socket is closed, no CONNACK (aedes sends none to a closed client).
        if (secure) client.close();
        done(err, false);
      },
      (err: unknown) => {
        o.log.error({ err, clientId: client.id }, 'MQTT identity check failed');
        done(Object.assign(new Error('identity check failed'), { returnCode: 3 }) as AuthenticateError, false);
      },
    );
  };
  broker.authorizeSubscribe = (client, sub, done) => {
    if (sessions.allows(client, 'iot:Subscribe', sub.topic)) {
      done(null, sub);
      return;
    }
    o.log.warn({ clientId: client.id, topic: sub.topic }, 'MQTT subscription refused: iot:Subscribe not allowed by the client\'s policies');
    done(null, null);
  };
  /**
   * aedes dispatches the packets of one socket read at once, so a device's start-next could be
   * answered before the update it sent just before. Each request takes its turn when it is
   * authorized (in the order it arrived) and is answered once the one before it has been.
   */
  const lastTurn = new Map<Client, Promise<void>>();
  const discarded = new WeakSet<object>();
  /** Client ids whose discarding has been logged (once per client id, not per message). */
  const discardsLogged = new Set<string>();
  const turns = new WeakMap<object, { previous: Promise<void>; done: () => void }>();
  broker.authorizePublish = (client, packet, done) => {
    if (client === null) {
      done(null);
      return;
    }
    if (sessions.allows(client, 'iot:Publish', packet.topic)) {
      if (!o.limiter.publish(client)) {
        // Over the connection's publish rate: discarded, as AWS does (acknowledged, never
        // answered, delivered nor retained). Deliveries carry the same payload buffer.
        discarded.add(packet.payload as Buffer);
        packet.retain = false;
        if (discardsLogged.size < 10_000 && !discardsLogged.has(client.id)) {
          discardsLogged.add(client.id);
          o.log.warn({ clientId: client.id, reason: 'THROTTLED' }, 'MQTT publishes discarded: over the connection\'s publish rate');
        }
        done(null);
        return;
      }
      if (parseRequestTopic(packet.topic)) {
        let finish!: () => void;
        const mine = new Promise<void>((resolve) => (finish = resolve));
        turns.set(packet, { previous: lastTurn.get(client) ?? Promise.resolve(), done: finish });
        lastTurn.set(client, mine);
        // Its PUBACK waits for its reply: both leave in one write (write-batching.ts).
        writeBatchOf(client.conn)?.hold();
      }
      done(null);
      return;
    }
    o.log.warn({ clientId: client.id, topic: packet.topic }, 'MQTT publish refused: iot:Publish not allowed by the client\'s policies; connection closed');
    done(new Error('not authorized'));
  };
  /**
   * aedes numbers every packet it publishes (brokerCounter); test mode's reset moves this mark
   * past them, so what a kept session had queued before it is dropped, not delivered afterwards.
   */
  let forgetUpTo = 0;
  broker.authorizeForward = (client, packet) => {
    const counter = (packet as { brokerCounter?: number }).brokerCounter;
    if (counter !== undefined && counter <= forgetUpTo) return null;
    if (discarded.has(packet.payload as Buffer)) return null;
    return sessions.allows(client, 'iot:Receive', packet.topic) ? packet : null;
  };
  let received = 0;
  let sent = 0;
  broker.published = (packet, client, done) => {
    if (!client) {
      done();
      return;
    }
    received++;
    const request = parseRequestTopic(packet.topic);
    const turn = turns.get(packet);
    if (!request || !turn) {
      done();
      return;
    }
    turns.delete(packet);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const reply = (topic: string, body: string) => {
      sent++;
      client.publish({ cmd: 'publish', topic, payload: Buffer.from(body), qos: 0, retain: false, dup: false }, () => undefined);
    };
    turn.previous
      .then(() => o.onRequest(request, packet.topic, payload, reply))
      .catch((err: unknown) => o.log.error({ err, clientId: client.id, topic: packet.topic }, 'MQTT request failed'))
      .finally(() => {
        turn.done();
        done();
        writeBatchOf(client.conn)?.release();
      });
  };
  broker.on('clientReady', (client) => {
    const thing = sessions.thingOf(client);
    if (thing === undefined) return;
    connected.set(thing, (connected.get(thing) ?? 0) + 1);
    if (client.clean) persistent.delete(thing);
    else persistent.add(thing);
    const keepAlive = keepAlives.get(client);
    o.onConnectivity?.(thing, { connected: true, clientId: client.id, cleanSession: client.clean, ...(typeof keepAlive === 'number' ? { keepAlive } : {}) });
  });
  broker.on('clientDisconnect', (client) => {
    const thing = sessions.thingOf(client);
    sessions.drop(client);
    certificates.delete(client);
    lastTurn.delete(client);
    if (thing === undefined) return;
    const n = (connected.get(thing) ?? 1) - 1;
    if (n <= 0) {
      connected.delete(thing);
      o.onConnectivity?.(thing, { connected: false, clientId: client.id, disconnectReason: 'CLIENT_INITIATED_DISCONNECT' });
    } else {
      connected.set(thing, n);
    }
  });
  broker.on('clientError', () => undefined);
  broker.on('connectionError', () => undefined);

  /** Each TCP or TLS connection batches its writes (decision 0053), then is aedes'. */
  const accept = (socket: net.Socket) => {
    batchWrites(socket);
    broker.handle(socket);
  };
  const server = net.createServer(accept);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (err) {
    await new Promise<void>((r) => broker.close(() => r()));
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new MqttPortInUseError(
        `the MQTT port ${o.port} on ${o.host} is taken: pick another with --mqtt-port (0 for any free port), use a broker that runs there with --mqtt-url mqtt://${o.host}:${o.port}, or turn the MQTT door off with --no-mqtt`,
      );
    }
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  let tlsServer: tls.Server | undefined;
  if (o.tls) {
    // ALPN: the Device SDK's x-amzn-mqtt-ca (what AWS's 443 wants), plain mqtt, or none at all.
    // No session tickets (decision 0047): TLS 1.3 sends two after every handshake, each sealing
    // the client certificate, a fifth of a connect's server CPU, for resumptions devices that
    // stay connected for hours do not make.
    tlsServer = tls.createServer({ ...o.tls.context, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['x-amzn-mqtt-ca', 'mqtt'], secureOptions: constants.SSL_OP_NO_TICKET }, accept);
    tlsServer.on('tlsClientError', (err) => o.log.debug({ err: err.message }, 'MQTT TLS handshake failed'));
    const listener = tlsServer;
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(o.tls!.port, o.host, () => resolve());
      });
    } catch (err) {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new MqttPortInUseError(`the MQTT TLS port ${o.tls.port} on ${o.host} is taken: pick another with --mqtt-tls-port (0 for any free port)`);
      }
      throw err;
    }
  }
  const tlsPort = tlsServer ? (tlsServer.address() as AddressInfo).port : undefined;
  const transport: MqttTransport = {
    publish(topic, payload) {
      sent++;
      broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, () => undefined);
    },
    listening: (thingName) => connected.has(thingName) || persistent.has(thingName),
  };
  return {
    url: `mqtt://${host}:${port}`,
    port,
    ...(tlsPort !== undefined ? { tlsUrl: `mqtts://${host}:${tlsPort}`, tlsPort } : {}),
    connectedCertificates: () => [...certificates].map(([client, certificateId]) => ({ certificateId, thingName: sessions.attachedThingOf(client) ?? '' })),
    disconnectCertificate(certificateId, thingName) {
      let n = 0;
      for (const [client, id] of certificates) {
        if (id !== certificateId || (thingName !== undefined && sessions.attachedThingOf(client) !== thingName)) continue;
        o.log.warn({ clientId: client.id, certificateId }, 'MQTT connection closed: its certificate may no longer connect');
        certificates.delete(client);
        client.close();
        n++;
      }
      return n;
    },
    handle: (stream, req) => broker.handle(stream, req),
    transport,
    stats: () => ({ connections: sessions.size, received, sent }),
    async disconnectAll() {
      forgetUpTo = (broker as unknown as { counter: number }).counter;
      await Promise.all(sessions.clients().map((c) => new Promise<void>((resolve) => c.close(() => resolve()))));
      // A clean=false session outlives its connection: its subscriptions go too.
      const { persistence } = broker as unknown as { persistence: { cleanSubscriptions(client: { id: string }): Promise<void> } };
      for (const id of persistent) await persistence.cleanSubscriptions({ id });
      persistent.clear();
    },
    async close() {
      // Clients first (the broker disconnects them), then the listener has nothing left to wait for.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (tlsServer) await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    },
  };
}
