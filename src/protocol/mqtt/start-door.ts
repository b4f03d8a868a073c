import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Server } from 'node:http';
import type { Clock } from '../../clock.js';
import type { DeviceAuthorization } from '../../domain/policies/device-authorization.js';
import type { SigV4Verifier } from '../http/sigv4.js';
import { ClientLimiter } from './client-limits.js';
import { startEmbeddedBroker, type ConnectivityEvent } from './embedded-broker.js';
import { connectExternalBroker, type ExternalBroker } from './external-broker.js';
import { clientCertificate, clientIdIsThing, type IdentityDecision } from './identity.js';
import type { DeviceRequest } from './topics.js';
import type { MqttStats, MqttTransport } from './transport.js';
import { attachMqttWebSocket } from './websocket-door.js';

/** The MQTT device door as the server runs it: the embedded broker, or a connection to an external one. */
export interface MqttDoor {
  /** Where devices connect. */
  url: string;
  /** The embedded broker's port. */
  port?: number;
  /** The embedded broker's MQTT TLS listener, with TLS on. */
  tlsUrl?: string;
  tlsPort?: number;
  /** Closes the embedded broker's connections made with this certificate (an external broker's are not ours). */
  disconnectCertificate(certificateId: string, thingName?: string): number;
  connectedCertificates(): { certificateId: string; thingName: string }[];
  transport: MqttTransport;
  /** Connections and messages so far (the metrics). */
  stats(): MqttStats;
  /** Set in external-broker mode. */
  external?: ExternalBroker;
  /** Test mode's reset: the embedded broker's clients and sessions gone (an external broker's are not ours). */
  disconnectAll(): Promise<void>;
  close(): Promise<void>;
}

export async function startMqttDoor(deps: {
  config: Config;
  nodeId: string;
  /** The home region's device authorization (policies, `--default-device-policy`). */
  authorization: DeviceAuthorization;
  onRequest: (request: DeviceRequest, topic: string, payload: Buffer, reply: (topic: string, payload: string) => void) => Promise<void>;
  log: Logger;
  /** The embedded broker's connects and disconnects (an external broker's are not seen). */
  onConnectivity?: (thingName: string, event: ConnectivityEvent) => void;
  /** The TLS listener's certificate and who a client certificate acts for (with `config.tls`). */
  tls?: { context: SecureContextOptions; identify: (der: Buffer, thingName: string) => Promise<IdentityDecision> };
  /** Time against which the per-client MQTT rates are counted. */
  rateClock: Clock;
  /** The HTTP port, where the embedded broker also serves MQTT over WebSockets at /mqtt. */
  http?: { server: Server; verifier?: SigV4Verifier };
}): Promise<MqttDoor | undefined> {
  const { config } = deps;
  if (config.mqttBroker) {
    const external = await connectExternalBroker({ broker: config.mqttBroker, nodeId: deps.nodeId, log: deps.log, onRequest: deps.onRequest });
    return { url: external.url, transport: external.transport, stats: () => external.stats(), external, disconnectCertificate: () => 0, connectedCertificates: () => [], disconnectAll: async () => undefined, close: () => external.close() };
  }
  if (config.mqttPort === undefined) return undefined;
  // The embedded broker on the HTTP host (devices-and-engine.md §1).
  const broker = await startEmbeddedBroker({
    host: config.host,
    port: config.mqttPort,
    identity: clientIdIsThing((name) => deps.authorization.thing(name)),
    authorization: deps.authorization,
    limiter: new ClientLimiter(deps.rateClock),
    log: deps.log,
    onRequest: deps.onRequest,
    onConnectivity: deps.onConnectivity,
    ...(deps.tls && config.tls?.mqttTlsPort !== undefined ? { tls: { port: config.tls.mqttTlsPort, context: deps.tls.context, identity: clientCertificate(deps.tls.identify) } } : {}),
  });
  const closeWebSockets = deps.http ? attachMqttWebSocket({ ...deps.http, handle: broker.handle, log: deps.log }) : undefined;
  return {
    url: broker.url,
    port: broker.port,
    ...(broker.tlsPort !== undefined ? { tlsUrl: broker.tlsUrl, tlsPort: broker.tlsPort } : {}),
    disconnectCertificate: (id, thing) => broker.disconnectCertificate(id, thing),
    connectedCertificates: () => broker.connectedCertificates(),
    transport: broker.transport,
    stats: () => broker.stats(),
    disconnectAll: () => broker.disconnectAll(),
    async close() {
      await broker.close();
      closeWebSockets?.();
    },
  };
}
