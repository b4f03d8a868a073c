/**
 * Who a device connection acts for: the one seam where that is decided (device-security.md will
 * add certificates and policies here). Today a client acts for the thing its client id names, as
 * in AWS's default policy; a client id that is no registered thing is refused at CONNECT. The
 * username carries the Device SDK's metrics (`?SDK=…`) and is never read as an identity.
 */
export interface ConnectAttempt {
  clientId: string;
  username?: string;
  password?: Buffer;
  /** On the TLS listener: the client certificate's DER, if one was presented. */
  certificate?: Buffer;
  secure?: boolean;
}

export type IdentityDecision = { thingName: string; certificateId?: string } | { refused: string; certificateId?: string };

export interface DeviceIdentity {
  identify(attempt: ConnectAttempt): Promise<IdentityDecision>;
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/**
 * The TLS listener's identity (decision 0032): a client certificate, ACTIVE and attached to the
 * thing the client id names (the own-thing default policy, device-security.md §5.4).
 */
export function clientCertificate(identify: (der: Buffer, thingName: string) => Promise<IdentityDecision>): DeviceIdentity {
  return {
    async identify({ clientId, certificate }) {
      if (!certificate) return { refused: 'no client certificate was presented' };
      if (!THING_NAME.test(clientId)) return { refused: `client id ${JSON.stringify(clientId)} is no valid thing name` };
      return identify(certificate, clientId);
    },
  };
}

/** The client id is the thing name; the thing must exist. */
export function clientIdIsThing(thingExists: (name: string) => Promise<boolean>): DeviceIdentity {
  return {
    async identify({ clientId }) {
      if (!THING_NAME.test(clientId)) return { refused: `client id ${JSON.stringify(clientId)} is no valid thing name` };
      return (await thingExists(clientId)) ? { thingName: clientId } : { refused: `no thing named ${clientId} is registered` };
    },
  };
}
