import { certificateIdOf, certificateNames } from '../../crypto/x509.js';
import type { DevicePrincipal } from '../policies/device-authorization.js';
import type { CertificateFacts, ConnectionThing } from '../policies/policy-variables.js';
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
   * signed it, with the connection's thing (`thingOfConnection`); what the principal may do is
   * its policies' to say (the own-thing default admits only an attached thing).
   */
  async principal(der: Buffer, clientId: string, lookupThing: (name: string) => Promise<Omit<ConnectionThing, 'attached'> | undefined>): Promise<PrincipalDecision> {
    const certificateId = certificateIdOf(der);
    const row = await this.ctx.store.certificates.get(certificateId);
    if (!row) return { refused: 'the client certificate is not registered', certificateId };
    if (row.status !== 'ACTIVE') return { refused: `the client certificate is ${row.status}`, certificateId };
    const certificateArn = this.ctx.arns.certificate(certificateId);
    const attached = (await this.ctx.store.thingPrincipals.ofPrincipal(certificateArn, undefined, MAX_THINGS_READ)).map((r) => ({ thingName: r.thing_name, exclusive: r.principal_type === 'EXCLUSIVE_THING' }));
    const chosen = thingOfConnection(clientId, attached);
    const thing = chosen ? await lookupThing(chosen.name) : undefined;
    return {
      certificateId,
      principal: {
        clientId,
        certificateArn,
        certificate: certificateFacts(certificateId, der),
        ...(thing ? { thing: { ...thing, attached: chosen!.attached } } : {}),
      },
    };
  }
}

/**
 * The certificate's facts for the policy variables, its names parsed only when a policy reads
 * them: parsing the DER cost a TLS connect ~0.15 ms, and most policies never ask.
 */
function certificateFacts(id: string, der: Buffer): CertificateFacts {
  let names: ReturnType<typeof certificateNames>;
  let parsed = false;
  const read = () => {
    if (!parsed) {
      names = certificateNames(der);
      parsed = true;
    }
    return names;
  };
  return {
    id,
    get subject() {
      return read()?.subject;
    },
    get issuer() {
      return read()?.issuer;
    },
    get serialNumber() {
      return read()?.serialNumber;
    },
  };
}

/** A thing attached to a certificate (AttachThingPrincipal). */
export interface AttachedThing {
  thingName: string;
  exclusive: boolean;
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
/** Things of one certificate read at CONNECT; AWS attaches a certificate to few. */
const MAX_THINGS_READ = 100;

/**
 * The thing a certificate's connection acts for (device-security.md §4.2): the client id's when
 * it is attached to the certificate, else the certificate's EXCLUSIVE_THING whatever the client
 * id; else the thing the client id names, not attached (`IsAttached` false, so `own-thing`
 * refuses it and its groups' policies do not apply).
 */
export function thingOfConnection(clientId: string, attached: AttachedThing[]): { name: string; attached: boolean } | undefined {
  const own = attached.find((t) => t.thingName === clientId) ?? attached.find((t) => t.exclusive);
  if (own) return { name: own.thingName, attached: true };
  return THING_NAME.test(clientId) ? { name: clientId, attached: false } : undefined;
}
