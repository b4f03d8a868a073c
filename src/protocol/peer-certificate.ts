import type { TLSSocket } from 'node:tls';

/**
 * The DER of the client certificate a TLS peer presented, or undefined. getPeerX509Certificate()
 * wraps OpenSSL's certificate and `raw` encodes it (~40 µs here); getPeerCertificate() builds the
 * whole description — names, key, three fingerprints — first (~185 µs), and only the DER is read:
 * the certificate id is its SHA-256, and the names are parsed only when a policy reads them
 * (certificate-identity.ts).
 */
export function peerCertificateDer(socket: TLSSocket): Buffer | undefined {
  const raw = socket.getPeerX509Certificate()?.raw;
  return raw && raw.length > 0 ? raw : undefined;
}
