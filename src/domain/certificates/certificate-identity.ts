import { certificateIdOf, certificateNames } from '../../crypto/x509.js';
import type { DeviceFacts, DevicePrincipal } from '../policies/device-authorization.js';
import type { CertificateFacts, ConnectionThing } from '../policies/policy-variables.js';
import type { DomainContext } from '../context.js';

export type PrincipalDecision = { principal: DevicePrincipal; certificateId: string } | { refused: string; certificateId?: string };

export type FactsDecision = { facts: DeviceFacts; certificateId: string } | { refused: string; certificateId?: string };

type ThingLookup = (name: string) => Promise<Omit<ConnectionThing, 'attached'> | undefined>;

/**
 * Who a client certificate acts for (device-security.md §6.2, decisions 0032 and 0048): its DER
 * must name a registered ACTIVE certificate (whoever signed it: the TLS handshake proved the key);
 * the thing it acts for is decided from the things attached to it (`thingOfConnection`), and what
 * it may do there is its policies' to say (the own-thing default admits only an attached thing).
 * The reasons are for the log: they name the certificate id, never its content.
 */
export class CertificateIdentity {
  /**
   * `iot:Certificate.*` names by certificate id: parsing the DER is most of a request's CPU, and an
   * id (sha256 of the DER) always names the same certificate. HTTPS asks at every request.
   */
  private readonly names = new Map<string, CertificateFacts>();

  constructor(private readonly ctx: DomainContext) {}

  /** The MQTT TLS listener's principal: the thing follows the client id. */
  async principal(der: Buffer, clientId: string, lookupThing: ThingLookup): Promise<PrincipalDecision> {
    const d = await this.facts(der, clientId, lookupThing);
    return 'facts' in d ? { certificateId: d.certificateId, principal: { ...d.facts, clientId } } : d;
  }

  /**
   * An HTTPS device-plane request's principal: the thing follows the thing its path names, and
   * there is no client id (`${iot:ClientId}` is unresolvable; AWS has none over HTTPS either).
   */
  async requestFacts(der: Buffer, pathThing: string, lookupThing: ThingLookup): Promise<FactsDecision> {
    return this.facts(der, pathThing, lookupThing);
  }

  private async facts(der: Buffer, thingHint: string, lookupThing: ThingLookup): Promise<FactsDecision> {
    const certificateId = certificateIdOf(der);
    const status = await this.ctx.store.certificates.statusOf(certificateId);
    if (status === undefined) return { refused: 'the client certificate is not registered', certificateId };
    if (status !== 'ACTIVE') return { refused: `the client certificate is ${status}`, certificateId };
    const certificateArn = this.ctx.arns.certificate(certificateId);
    const attached = (await this.ctx.store.thingPrincipals.ofPrincipal(certificateArn, undefined, MAX_THINGS_READ)).map((r) => ({ thingName: r.thing_name, exclusive: r.principal_type === 'EXCLUSIVE_THING' }));
    const chosen = thingOfConnection(thingHint, attached);
    const thing = chosen ? await lookupThing(chosen.name) : undefined;
    return {
      certificateId,
      facts: {
        certificateArn,
        certificate: this.namesOf(certificateId, der),
        ...(thing ? { thing: { ...thing, attached: chosen!.attached } } : {}),
      },
    };
  }

  private namesOf(certificateId: string, der: Buffer): CertificateFacts {
    let facts = this.names.get(certificateId);
    if (!facts) {
      facts = certificateFacts(certificateId, der);
      if (this.names.size >= 10_000) this.names.clear();
      this.names.set(certificateId, facts);
    }
    return facts;
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
