import type { Store } from '../../store/store.js';

/**
 * What the certificate domain reaches outside itself through. The device CA is the operator's
 * files or the generated one (src/config/tls-material.ts): its key stays there.
 */
export interface DeviceCaPort {
  /** Signs `spkiDer` for `subject` with AWS's leaf profile; answers the certificate's PEM. */
  issue(subject: string | { toString(): string }, spkiDer: Buffer, now: Date): Promise<string>;
}

/** Told after commit, so that the MQTT door closes what may no longer stay connected (decision 0033). */
export interface CertificateEvents {
  /** The certificate left ACTIVE (INACTIVE, REVOKED) or was deleted. */
  certificateRevoked(certificateId: string): void;
  /** The certificate is no longer attached to the thing. */
  principalDetached(certificateId: string, thingName: string): void;
  /** Registered CAs changed: the TLS listeners trust another set. */
  caCertificatesChanged(): void;
}

export const noCertificateEvents: CertificateEvents = { certificateRevoked: () => undefined, principalDetached: () => undefined, caCertificatesChanged: () => undefined };

/**
 * The seam for IoT policies (issue 11 item 4): DeleteCertificate asks how many policies are
 * attached to the certificate's ARN and, with forceDelete, drops them in the same transaction.
 * The policy feature plugs its attachments in with `CertificateService.usePolicyAttachments`.
 */
export interface CertificatePolicyAttachments {
  countAttachedTo(tx: Store, certificateArn: string): Promise<number>;
  detachAllFrom(tx: Store, certificateArn: string): Promise<void>;
}

export const noPolicyAttachments: CertificatePolicyAttachments = { countAttachedTo: async () => 0, detachAllFrom: async () => undefined };
