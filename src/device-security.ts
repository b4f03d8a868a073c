import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { openTlsMaterial, type TlsMaterial } from './config/tls-material.js';
import type { CertificateEvents } from './domain/certificates/certificate-ports.js';
import { CertificateIdentity } from './domain/certificates/certificate-identity.js';
import type { DomainContext } from './domain/context.js';
import { deviceCertificateAuth, type DeviceCertificateAuth } from './protocol/http/device-certificates.js';
import type { ConnectionThing } from './domain/policies/policy-variables.js';
import type { IdentityDecision } from './protocol/mqtt/identity.js';
import type { MqttDoor } from './protocol/mqtt/start-door.js';
import type { Store } from './store/store.js';
import type { Engine } from './workers/engine.js';
import { certificateSweep } from './workers/certificate-sweep.js';

/**
 * Device security's part of the composition root (issue 11): the TLS material and device CA, the
 * HTTPS door's client certificates, the MQTT TLS listener's identity, and the certificate events
 * that close what may no longer stay connected (decision 0033). app.ts calls it once.
 */
export interface DeviceSecurity {
  material: TlsMaterial;
  /** The TLS listeners' context: the server certificate, and the device CA as the client CA named in the handshake. */
  context?: SecureContextOptions;
  /** Certificate changes, forwarded to the MQTT door once it runs. */
  events: CertificateEvents;
  /**
   * The MQTT door, once it runs: certificate events reach it, and instances sharing PostgreSQL
   * sweep their TLS connections for changes made through other instances.
   */
  attachDoor(door: MqttDoor | undefined, engine: Engine, ctx: DomainContext): void;
  /** The home region's identities, once its domain exists. */
  identities(ctx: DomainContext, lookupThing: ThingLookup): { http?: DeviceCertificateAuth; mqtt?: { context: SecureContextOptions; identify: (der: Buffer, clientId: string) => Promise<IdentityDecision> } };
}

/** The registry's facts about a thing for the policy engine (DeviceAuthorization.thing). */
type ThingLookup = (name: string) => Promise<Omit<ConnectionThing, 'attached'> | undefined>;

export async function openDeviceSecurity(config: Config, store: Store, now: () => number, logger: Logger): Promise<DeviceSecurity> {
  const material = await openTlsMaterial(config, store.caCertificates, now);
  const context = material.server
    ? { cert: material.server.certPem, key: material.server.keyPem, ca: [await material.deviceCa.certificatePem()] }
    : undefined;
  let door: MqttDoor | undefined;
  const log = logger.child({ component: 'device-security' });
  const events: CertificateEvents = {
    certificateRevoked: (id) => void door?.disconnectCertificate(id),
    principalDetached: (id, thing) => void door?.disconnectCertificate(id, thing),
    caCertificatesChanged: () => undefined,
  };
  return {
    material,
    ...(context ? { context } : {}),
    events,
    attachDoor(d, engine, ctx) {
      door = d;
      if (!d || !context || config.databaseUrl === undefined) return;
      engine.add(certificateSweep({ store: ctx.store, arns: ctx.arns, connected: () => d.connectedCertificates(), disconnect: (id, thing) => d.disconnectCertificate(id, thing), log }));
    },
    identities(ctx, lookupThing) {
      if (!context) return {};
      const identity = new CertificateIdentity(ctx);
      return { http: deviceCertificateAuth(identity, log), mqtt: { context, identify: (der, clientId) => identity.principal(der, clientId, lookupThing) } };
    },
  };
}
