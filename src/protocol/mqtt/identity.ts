import type { DevicePrincipal } from '../../domain/policies/device-authorization.js';
import type { ConnectionThing } from '../../domain/policies/policy-variables.js';

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
  /** On the TLS listener: the client certificate's DER, if one was presented. */
  certificate?: Buffer;
  secure?: boolean;
}

/** A refusal names the certificate it concerns (for the log and for disconnects), never its content. */
export type IdentityDecision = { principal: DevicePrincipal; certificateId?: string } | { refused: string; certificateId?: string };

export interface DeviceIdentity {
  identify(attempt: ConnectAttempt): Promise<IdentityDecision>;
}

export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/**
 * The TLS listener's identity (decision 0032): a registered ACTIVE client certificate is the
 * principal; the thing the client id names is its thing, attached or not (the own-thing default
 * policy admits only an attached one, device-security.md §5.4; attached policies decide alone).
 */
export function clientCertificate(identify: (der: Buffer, clientId: string) => Promise<IdentityDecision>): DeviceIdentity {
  return {
    async identify({ clientId, certificate }) {
      if (!certificate) return { refused: 'no client certificate was presented' };
      return identify(certificate, clientId);
    },
  };
}

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
