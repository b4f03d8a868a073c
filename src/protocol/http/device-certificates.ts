import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { CertificateIdentity } from '../../domain/certificates/certificate-identity.js';
import { DomainError } from '../../domain/errors.js';
import type { RequestRecord } from './request-log.js';

/**
 * HTTPS requests of the device planes (jobs data, shadows) that present a client certificate and
 * no signature act for the certificate's thing, as a device calls AWS's data endpoint with mTLS
 * (device-security.md §6.1). Until IoT policies decide, a certificate may act only for a thing it
 * is attached to (the own-thing default policy); anything else is 403 ForbiddenException.
 */
export interface PeerCertificate {
  der: Buffer;
}

export interface DeviceCertificateAuth {
  authorize(peer: PeerCertificate, thingName: string | undefined, rec: RequestRecord): Promise<void>;
}

export function peerCertificateOf(req: IncomingMessage): PeerCertificate | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const raw = socket.getPeerCertificate(false)?.raw;
  return raw && raw.length > 0 ? { der: raw } : undefined;
}

export function deviceCertificateAuth(identity: CertificateIdentity, log: Logger): DeviceCertificateAuth {
  return {
    async authorize(peer, thingName, rec) {
      const decision = thingName === undefined ? { refused: 'the request names no thing' } : await identity.identify(peer.der, thingName);
      if ('thingName' in decision) return;
      log.warn({ api: rec.api, operation: rec.operation, thingName, certificateId: decision.certificateId, reason: decision.refused }, 'HTTPS device request refused');
      throw new DomainError('ForbiddenException', 'The client certificate is not authorized for this thing.');
    },
  };
}
