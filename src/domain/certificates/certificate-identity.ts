import { certificateIdOf, certificateNames } from '../../crypto/x509.js';
import type { DevicePrincipal } from '../policies/device-authorization.js';
import type { ConnectionThing } from '../policies/policy-variables.js';
import type { DomainContext } from '../context.js';

export type PrincipalDecision = { principal: DevicePrincipal; certificateId: string } | { refused: string; certificateId?: string };

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

  /**
   * The MQTT TLS listener's principal (decision 0032): a registered ACTIVE certificate, whoever
   * signed it. The thing the client id names is the connection's thing only when it is attached
   * to the certificate (`iot:Connection.Thing.*`, as on AWS); what the principal may do is its
   * policies' to say (the own-thing default admits only an attached thing).
   */
  async principal(der: Buffer, clientId: string, lookupThing: (name: string) => Promise<Omit<ConnectionThing, 'attached'> | undefined>): Promise<PrincipalDecision> {
    const certificateId = certificateIdOf(der);
    const row = await this.ctx.store.certificates.get(certificateId);
    if (!row) return { refused: 'the client certificate is not registered', certificateId };
    if (row.status !== 'ACTIVE') return { refused: `the client certificate is ${row.status}`, certificateId };
    const certificateArn = this.ctx.arns.certificate(certificateId);
    const attached = THING_NAME.test(clientId) && (await this.ctx.store.thingPrincipals.get(clientId, certificateArn)) !== undefined;
    const thing = attached ? await lookupThing(clientId) : undefined;
    const names = certificateNames(der);
    return {
      certificateId,
      principal: {
        clientId,
        certificateArn,
        certificate: { id: certificateId, ...(names ?? {}) },
        ...(thing ? { thing: { ...thing, attached: true } } : {}),
      },
    };
  }
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
