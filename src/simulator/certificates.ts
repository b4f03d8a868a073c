import { signedJson, type ClientTarget } from '../cli/client.js';
import { newEcKeyAndCsr } from '../crypto/x509.js';
import { expectOk, RegistrationError } from './registration.js';

/**
 * The simulated devices' X.509 identities for mTLS, provisioned as a device fleet's factory does
 * it through the control plane: each device makes its own EC P-256 key and CSR, the server signs
 * it (CreateCertificateFromCsr, ACTIVE) with its device CA, and the certificate is attached to
 * the device's thing (AttachThingPrincipal). The private keys stay in this process.
 */
export interface DeviceCredentials {
  keyPem: string;
  certPem: string;
}

const CONCURRENCY = 16;

export async function provisionDeviceCertificates(target: ClientTarget, things: string[], onProgress?: (done: number) => void): Promise<Map<string, DeviceCredentials>> {
  const out = new Map<string, DeviceCredentials>();
  let next = 0;
  const worker = async () => {
    while (next < things.length) {
      const thingName = things[next++];
      const { keyPem, csrPem } = await newEcKeyAndCsr(thingName);
      const created = await signedJson(target, 'POST', '/certificates?setAsActive=true', { certificateSigningRequest: csrPem });
      await expectOk(created, `CreateCertificateFromCsr for ${thingName}`);
      const cert = created.json as { certificateArn?: string; certificatePem?: string } | undefined;
      if (!cert?.certificateArn || !cert.certificatePem) throw new RegistrationError(`CreateCertificateFromCsr for ${thingName} answered no certificate`);
      const attached = await signedJson(target, 'PUT', `/things/${encodeURIComponent(thingName)}/principals`, undefined, 'iot', { 'x-amzn-principal': cert.certificateArn });
      await expectOk(attached, `AttachThingPrincipal ${thingName}`);
      out.set(thingName, { keyPem, certPem: cert.certificatePem });
      onProgress?.(out.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, things.length) }, worker));
  return out;
}

