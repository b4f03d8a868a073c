import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { peerCertificateDer } from '../peer-certificate.js';
import type { CertificateIdentity } from '../../domain/certificates/certificate-identity.js';
import type { DeviceAuthorization } from '../../domain/policies/device-authorization.js';
import { DomainError } from '../../domain/errors.js';
import type { RequestRecord } from './request-log.js';

/**
 * HTTPS requests of the device planes (jobs data, shadows) that present a client certificate and
 * no signature act for the certificate's thing under its IoT policies, as a device calls AWS's
 * data endpoint with mTLS (device-security.md §6.1, decisions 0032 and 0048): the certificate
 * must be registered and ACTIVE, and the operation's action on the thing's ARN must be allowed by
 * its policies, or by the default device policy when none reaches it — the MQTT door's engine.
 * Anything else is 403 ForbiddenException, before the route runs, so a refusal changes nothing.
 */
export interface PeerCertificate {
  der: Buffer;
}

/** What a device-plane request asks for: its operation, the thing its path names, its named shadow. */
export interface DevicePlaneRequest {
  operation: string;
  thingName: string | undefined;
  shadowName?: string;
}

export interface DeviceCertificateAuth {
  authorize(peer: PeerCertificate, request: DevicePlaneRequest, rec: RequestRecord): Promise<void>;
}

export function peerCertificateOf(req: IncomingMessage): PeerCertificate | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const der = peerCertificateDer(socket);
  return der ? { der } : undefined;
}

export function deviceCertificateAuth(identity: CertificateIdentity, authorization: DeviceAuthorization, log: Logger): DeviceCertificateAuth {
  const refuse = (fields: Record<string, unknown>, message: string): never => {
    log.warn(fields, 'HTTPS device request refused');
    throw new DomainError('ForbiddenException', message);
  };
  return {
    async authorize(peer, { operation, thingName, shadowName }, rec) {
      const where = { api: rec.api, operation, thingName, ...(shadowName !== undefined ? { shadowName } : {}) };
      if (thingName === undefined) return refuse({ ...where, reason: 'the request names no thing' }, 'The client certificate is not authorized for this request.');
      const who = await identity.requestFacts(peer.der, thingName, (name) => authorization.thing(name));
      if ('refused' in who) return refuse({ ...where, certificateId: who.certificateId, reason: who.refused }, 'The client certificate is not authorized for this thing.');
      const decision = await authorization.authorizeDataPlane(who.facts, operation, thingName, shadowName);
      if (decision.allowed) return;
      refuse({ ...where, certificateId: who.certificateId, action: decision.action, resource: decision.resource, reason: decision.reason },
        `The client certificate is not authorized to perform ${decision.action} on resource ${decision.resource}.`);
    },
  };
}
