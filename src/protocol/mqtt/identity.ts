import type { DevicePrincipal } from '../../domain/policies/device-authorization.js';
import type { CertificateFacts, ConnectionThing } from '../../domain/policies/policy-variables.js';

/**
 * Who a device connection is: the one seam where that is decided. It yields the connection's
 * principal (client id, certificate, thing); what the principal may do is the policy engine's to
 * say (domain/policies, device-sessions.ts). The username carries the Device SDK's metrics
 * (`?SDK=…`) and is never read as an identity.
 */
export interface ConnectAttempt {
  clientId: string;
  username?: string;
  password?: Buffer;
  /**
   * The client certificate the TLS listener verified, when there is one (issue 11 items 2 and 5):
   * its ARN (`arn:aws:iot:{region}:{account}:cert/{sha256 of the DER}`) and its names.
   */
  certificate?: { arn: string; facts: CertificateFacts };
}

export type IdentityDecision = { principal: DevicePrincipal } | { refused: string };

export interface DeviceIdentity {
  identify(attempt: ConnectAttempt): Promise<IdentityDecision>;
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/**
 * A connection without a certificate (the plain listener): the client id names the thing it acts
 * for, and that thing counts as attached, so `own-thing` lets it in (decision 0035). A client id
 * that names no thing gives a principal without a thing, which the default policies refuse.
 */
export function clientIdIsThing(lookupThing: (name: string) => Promise<Omit<ConnectionThing, 'attached'> | undefined>): DeviceIdentity {
  return {
    async identify({ clientId }) {
      const thing = THING_NAME.test(clientId) ? await lookupThing(clientId) : undefined;
      return { principal: { clientId, ...(thing ? { thing: { ...thing, attached: true } } : {}) } };
    },
  };
}

/** A thing attached to a certificate (AttachThingPrincipal), as the certificate store reads it. */
export interface AttachedThing {
  thingName: string;
  exclusive: boolean;
}

/**
 * A connection with a verified client certificate (for the TLS listener of issue 11 item 5): the
 * thing is the client id's when it is attached to the certificate, else the certificate's
 * EXCLUSIVE_THING whatever the client id (device-security.md §4.2); a client id naming a thing
 * that is not attached gives that thing with `IsAttached` false, so `own-thing` refuses it. A
 * connection without a certificate falls back to `plain`.
 */
export function certificateIdentity(
  lookupThing: (name: string) => Promise<Omit<ConnectionThing, 'attached'> | undefined>,
  thingsOf: (certificateArn: string) => Promise<AttachedThing[]>,
  plain: DeviceIdentity,
): DeviceIdentity {
  return {
    async identify(attempt) {
      if (!attempt.certificate) return plain.identify(attempt);
      const { clientId, certificate } = attempt;
      const attached = await thingsOf(certificate.arn);
      const own = attached.find((t) => t.thingName === clientId);
      const name = own?.thingName ?? attached.find((t) => t.exclusive)?.thingName ?? (THING_NAME.test(clientId) ? clientId : undefined);
      const thing = name !== undefined ? await lookupThing(name) : undefined;
      const isAttached = thing !== undefined && attached.some((t) => t.thingName === thing.name);
      return {
        principal: { clientId, certificateArn: certificate.arn, certificate: certificate.facts, ...(thing ? { thing: { ...thing, attached: isAttached } } : {}) },
      };
    },
  };
}
