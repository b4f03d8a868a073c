import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';

/**
 * X.509 work (device-security.md §3.3, §3.6, §3.7) on @peculiar/x509 over Node's WebCrypto: key
 * pairs, CSRs, AWS's leaf profile, the server's own CA and TLS certificate. Nothing here logs,
 * and private keys leave only as the PEM a caller asked for.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

const generateKeyPairAsync = promisify(generateKeyPair);
/** AWS's notAfter for issued certificates: 2049-12-31T23:59:59Z (device-security.md §3.6). */
export const AWS_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

/** What a certificate says about itself, read once. */
export interface ParsedCertificate {
  /** sha256 of the DER, lowercase hex: AWS's certificateId. */
  id: string;
  der: Buffer;
  pem: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  signatureAlgorithm: string;
  node: NodeX509;
}

export class X509Error extends Error {}

/** Parses one PEM certificate; X509Error when it is none. */
export function parseCertificate(pem: string): ParsedCertificate {
  let node: NodeX509;
  try {
    node = new NodeX509(pem);
  } catch {
    throw new X509Error('The certificate is not a valid PEM-encoded X.509 certificate.');
  }
  const der = node.raw;
  let signatureAlgorithm: string | undefined;
  return {
    id: certificateIdOf(der),
    der,
    pem: toPem(der),
    subject: node.subject,
    issuer: node.issuer,
    notBefore: new Date(node.validFrom),
    notAfter: new Date(node.validTo),
    isCa: node.ca,
    // Read when asked (registering a certificate): @peculiar/x509's ASN.1 parse was half of
    // what issuing one cost, and Node's X509Certificate does not say it.
    get signatureAlgorithm() {
      signatureAlgorithm ??= signatureHashOf(der);
      return signatureAlgorithm;
    },
    node,
  };
}

/** The hash of a certificate's signature algorithm (SHA-256 …), '' when it cannot be read. */
function signatureHashOf(der: Buffer): string {
  try {
    return new x509.X509Certificate(der).signatureAlgorithm.hash?.name ?? '';
  } catch {
    return '';
  }
}

export const certificateIdOf = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

export function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/** Whether `cert` was signed by `issuer`'s key (and names it as issuer). */
export function signedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return cert.node.checkIssued(issuer.node) && cert.node.verify(issuer.node.publicKey);
  } catch {
    return false;
  }
}

/** A signing authority: its certificate and key, as a CA signs leaves with. */
export interface SigningCa {
  certificate: ParsedCertificate;
  key: KeyObject;
}

/** Loads a CA from PEM texts; X509Error when the pair does not belong together. */
export function loadCa(certPem: string, keyPem: string): SigningCa {
  const certificate = parseCertificate(certPem);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new X509Error('the CA key is not a PEM private key');
  }
  const spkiOfKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const spkiOfCert = certificate.node.publicKey.export({ type: 'spki', format: 'der' });
  if (!spkiOfKey.equals(spkiOfCert)) throw new X509Error('the CA key does not belong to the CA certificate');
  return { certificate, key };
}

type SigningKeys = { privateKey: CryptoKey; publicKey: CryptoKey; algorithm: Algorithm | EcdsaParams };
/** A CA's WebCrypto keys, imported once per key: importing an RSA key cost each issued certificate ~2 ms. */
const importedKeys = new WeakMap<KeyObject, Promise<SigningKeys>>();

function cryptoKeys(key: KeyObject): Promise<SigningKeys> {
  let keys = importedKeys.get(key);
  if (!keys) {
    keys = importKeys(key);
    importedKeys.set(key, keys);
  }
  return keys;
}

async function importKeys(key: KeyObject): Promise<SigningKeys> {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const ec = key.asymmetricKeyType === 'ec';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const importAlg = ec ? { name: 'ECDSA', namedCurve: curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : 'P-256' } : RSA_SHA256;
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, importAlg, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, importAlg, true, ['verify']);
  return { privateKey, publicKey, algorithm: ec ? { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams : RSA_SHA256 };
}

const serial = () => {
  const b = randomBytes(20);
  b[0] &= 0x7f; // a positive INTEGER
  return b.toString('hex');
};

/** An RSA-2048 key pair as CreateKeysAndCertificate returns it (PKCS#1 private, SPKI public). */
export async function newRsaKeyPair(): Promise<{ publicKeyPem: string; privateKeyPem: string; publicKey: KeyObject }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return {
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
  };
}

/** A CA's subject as its leaves' issuer, parsed once per CA (ASN.1 parsing is most of an issue's cost). */
const issuerNames = new WeakMap<ParsedCertificate, x509.Name>();
function issuerName(ca: SigningCa): x509.Name {
  let name = issuerNames.get(ca.certificate);
  if (!name) {
    name = new x509.X509Certificate(ca.certificate.der).subjectName;
    issuerNames.set(ca.certificate, name);
  }
  return name;
}

/** A CA's authority key identifier, computed once per CA (it hashes the CA's exported key). */
const authorityKeyIds = new WeakMap<ParsedCertificate, Promise<x509.AuthorityKeyIdentifierExtension>>();
function authorityKeyIdentifier(ca: SigningCa, publicKey: CryptoKey): Promise<x509.AuthorityKeyIdentifierExtension> {
  let ext = authorityKeyIds.get(ca.certificate);
  if (!ext) {
    ext = x509.AuthorityKeyIdentifierExtension.create(publicKey);
    authorityKeyIds.set(ca.certificate, ext);
  }
  return ext;
}

/** AWS's leaf profile (§3.6), signed by `ca`: 20-byte serial, notAfter 2049, CA:FALSE, digitalSignature. */
export async function issueLeaf(ca: SigningCa, subject: string | x509.Name, spkiDer: Buffer, now: Date): Promise<ParsedCertificate> {
  const keys = await cryptoKeys(ca.key);
  const publicKey = new x509.PublicKey(spkiDer);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    issuer: issuerName(ca),
    subject,
    notBefore: new Date(Math.floor(now.getTime() / 1000) * 1000 - 120_000),
    notAfter: AWS_NOT_AFTER,
    signingAlgorithm: keys.algorithm,
    publicKey,
    signingKey: keys.privateKey,
    extensions: [
      await authorityKeyIdentifier(ca, keys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  return parseCertificate(cert.toString('pem'));
}

/** A CSR whose self-signature holds and whose key is RSA ≥ 2048 or EC P-256/384/521; else X509Error. */
export async function readCsr(pem: string): Promise<{ subject: x509.Name; spkiDer: Buffer }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch {
    throw new X509Error('The certificate signing request is not a valid PEM-encoded PKCS#10 request.');
  }
  const spkiDer = Buffer.from(csr.publicKey.rawData);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw new X509Error('The certificate signing request carries an unsupported public key.');
  }
  const details = key.asymmetricKeyDetails;
  const strong =
    (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(details?.namedCurve ?? ''));
  if (!strong) throw new X509Error('The certificate signing request key must be RSA of at least 2048 bits or EC P-256, P-384 or P-521.');
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new X509Error('The certificate signing request signature is not valid.');
  return { subject: csr.subjectName, spkiDer };
}

/** A new self-signed CA (RSA-2048, SHA-256, 20 years) with its key as PKCS#8 PEM. */
export async function newCa(commonName: string, now: Date): Promise<{ certPem: string; keyPem: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const keys = await cryptoKeys(privateKey);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}, O=fleetjobs`,
    notBefore: new Date(now.getTime() - 120_000),
    notAfter: new Date(now.getTime() + 20 * 365 * 86_400_000),
    signingAlgorithm: keys.algorithm,
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  void publicKey;
  return { certPem: cert.toString('pem') + '\n', keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** A TLS server certificate (EC P-256 key) for `dnsNames` and `ips`, signed by `ca` (2 years), with its key. */
export async function newServerCertificate(ca: SigningCa, dnsNames: string[], ips: string[], now: Date): Promise<{ certPem: string; keyPem: string }> {
  // EC P-256: a handshake's signature costs the server ~0.1 ms instead of RSA-2048's ~1.5 ms.
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
  const keys = await cryptoKeys(ca.key);
  const spki = new x509.PublicKey(publicKey.export({ type: 'spki', format: 'der' }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    issuer: new x509.X509Certificate(ca.certificate.der).subjectName,
    subject: `CN=${dnsNames[0] ?? ips[0] ?? 'fleetjobs'}`,
    notBefore: new Date(now.getTime() - 120_000),
    notAfter: new Date(now.getTime() + 2 * 365 * 86_400_000),
    signingAlgorithm: keys.algorithm,
    publicKey: spki,
    signingKey: keys.privateKey,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(spki),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The subject for CreateKeysAndCertificate's certificates (never an identity: §1.2). */
export const AWS_LEAF_SUBJECT = 'CN=AWS IoT Certificate';

export function spkiOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * The names AWS gives a distinguished name's attributes in `iot:Certificate.Subject.*` and
 * `.Issuer.*` (device-security.md §5.3), by the short names Node prints; others keep Node's.
 */
const AWS_NAME: Record<string, string> = {
  CN: 'CommonName',
  C: 'Country',
  O: 'Organization',
  OU: 'OrganizationalUnit',
  ST: 'State',
  L: 'Locality',
  serialNumber: 'SerialNumber',
  title: 'Title',
  SN: 'Surname',
  GN: 'GivenName',
  initials: 'Initials',
  pseudonym: 'Pseudonym',
  generationQualifier: 'GenerationQualifier',
  dnQualifier: 'DistinguishedNameQualifier',
};

/** A distinguished name's attributes by AWS's names, each with its values in certificate order (from Node's `a=b` lines). */
export function nameAttributes(name: string): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const line of name.split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const short = line.slice(0, at);
    const key = Object.prototype.hasOwnProperty.call(AWS_NAME, short) ? AWS_NAME[short] : short;
    (out[key] ??= []).push(line.slice(at + 1));
  }
  return out;
}

/** What a DER certificate says of its names and serial number (for `iot:Certificate.*`); undefined when it does not parse. */
export function certificateNames(der: Buffer): { subject: Record<string, string[]>; issuer: Record<string, string[]>; serialNumber: string } | undefined {
  try {
    const node = new NodeX509(der);
    return { subject: nameAttributes(node.subject), issuer: nameAttributes(node.issuer), serialNumber: node.serialNumber };
  } catch {
    return undefined;
  }
}

/**
 * A device's own key pair (EC P-256, PKCS#8 PEM) and a CSR for it, as a device provisioning
 * itself through CreateCertificateFromCsr makes them: the private key never leaves the device,
 * and P-256 handshakes cost both ends far less than RSA-2048's.
 */
export async function newEcKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keyPem: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string, csrPem: csr.toString('pem') };
}
