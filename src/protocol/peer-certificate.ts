import type { TLSSocket } from 'node:tls';

/**
 * The DER of the client certificate a TLS peer presented, or undefined.
 *
 * Through the abbreviated getPeerCertificate(), which describes the certificate OpenSSL holds
 * (~70 µs a connect here, names and fingerprints included), and not getPeerX509Certificate(): on
 * Node 20 with OpenSSL 3.0 a server's peer chain holds the client's certificate itself, which the
 * X509Certificate copies as its issuer, and the copy decodes the public key again through
 * OpenSSL 3.0's slow decoder (~150 µs a connect, measured with perf on the project's machine).
 * Only the DER is used: the certificate id is its SHA-256, and the names are parsed only when a
 * policy reads them (certificate-identity.ts).
 */
export function peerCertificateDer(socket: TLSSocket): Buffer | undefined {
  const raw = (socket.getPeerCertificate() as { raw?: Buffer } | null)?.raw;
  return raw && raw.length > 0 ? raw : undefined;
}
