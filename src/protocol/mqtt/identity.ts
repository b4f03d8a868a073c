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
