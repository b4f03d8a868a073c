import { certificateIdOf } from '../../crypto/x509.js';
import type { DomainContext } from '../context.js';

export type CertificateDecision = { thingName: string; certificateId: string } | { refused: string; certificateId?: string };

/**
 * Who a client certificate acts for (device-security.md §6.2, decision 0032): its DER must name a
 * registered ACTIVE certificate (whoever signed it: the TLS handshake proved the key), attached
 * to the thing asked for (the MQTT client id, or the HTTPS path's thing). The reasons are for the
 * log: they name the certificate id, never its content.
 */
export class CertificateIdentity {
  constructor(private readonly ctx: DomainContext) {}

  async identify(der: Buffer, thingName: string): Promise<CertificateDecision> {
    const certificateId = certificateIdOf(der);
    const row = await this.ctx.store.certificates.get(certificateId);
    if (!row) return { refused: 'the client certificate is not registered', certificateId };
    if (row.status !== 'ACTIVE') return { refused: `the client certificate is ${row.status}`, certificateId };
    const attached = await this.ctx.store.thingPrincipals.get(thingName, this.ctx.arns.certificate(certificateId));
    if (!attached) return { refused: `the client certificate is not attached to thing ${JSON.stringify(thingName)}`, certificateId };
    return { thingName, certificateId };
  }
}
