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
}

export type IdentityDecision = { thingName: string } | { refused: string };

export interface DeviceIdentity {
  identify(attempt: ConnectAttempt): Promise<IdentityDecision>;
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** The client id is the thing name; the thing must exist. */
export function clientIdIsThing(thingExists: (name: string) => Promise<boolean>): DeviceIdentity {
  return {
    async identify({ clientId }) {
      if (!THING_NAME.test(clientId)) return { refused: `client id ${JSON.stringify(clientId)} is no valid thing name` };
      return (await thingExists(clientId)) ? { thingName: clientId } : { refused: `no thing named ${clientId} is registered` };
    },
  };
}
