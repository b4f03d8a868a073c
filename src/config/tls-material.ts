import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueLeaf, loadCa, newCa, newServerCertificate, X509Error, type SigningCa } from '../crypto/x509.js';
import type { DeviceCaPort } from '../domain/certificates/certificate-ports.js';
import { DomainError } from '../domain/errors.js';
import type { CaCertificateStore } from '../store/certificates.js';
import type { Config } from './config.js';

/**
 * The server's TLS certificate and the device CA (decisions 0030, 0031). Keys are read from the
 * operator's files or `<data-dir>/tls/` (0600) and held in memory; they are never logged, stored
 * in the database or answered. The database records only the device CA's certificate id, so an
 * instance on a shared PostgreSQL database whose CA differs from the others' refuses to start.
 */
export interface TlsMaterial {
  /** The HTTPS / MQTT TLS server's certificate and key (PEM); undefined with TLS off. */
  server?: { certPem: string; keyPem: string };
  /** The generated CA's path (printed at start: devices and SDKs trust it). */
  generatedCaFile?: string;
  deviceCa: DeviceCa;
}

/** An operational failure: the CLI prints the message alone. */
export class TlsStartError extends Error {
  readonly code = 'ETLSCA';
}

const files = (dataDir: string) => {
  const dir = join(dataDir, 'tls');
  return { dir, ca: join(dir, 'ca.pem'), caKey: join(dir, 'ca.key'), server: join(dir, 'server.pem'), serverKey: join(dir, 'server.key') };
};

function writeSecret(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsStartError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The CA that signs device certificates: the operator's files, else `<data-dir>/tls/ca.pem`
 * (made when first needed). Shared by every region.
 */
export class DeviceCa implements DeviceCaPort {
  private ca?: SigningCa;
  private making?: Promise<SigningCa>;

  constructor(
    private readonly config: Pick<Config, 'dataDir' | 'deviceCa' | 'databaseUrl'>,
    private readonly record: Pick<CaCertificateStore, 'recordDeviceCa' | 'recordedDeviceCa'>,
    private readonly now: () => number,
  ) {}

  /** The CA, loaded or made; TlsStartError when this instance's CA is not the database's. */
  get(): Promise<SigningCa> {
    if (this.ca) return Promise.resolve(this.ca);
    this.making ??= this.load().then(
      (ca) => (this.ca = ca),
      (err: unknown) => {
        this.making = undefined;
        throw err;
      },
    );
    return this.making;
  }

  /** The CA's certificate (PEM), which the TLS listeners trust for client certificates. */
  async certificatePem(): Promise<string> {
    return (await this.get()).certificate.pem;
  }

  async issue(subject: string | { toString(): string }, spkiDer: Buffer, now: Date): Promise<string> {
    const ca = await this.get().catch((err: unknown) => {
      // Shown to the caller: what to fix, never a key.
      if (err instanceof TlsStartError) throw new DomainError('InvalidRequestException', `This server cannot sign certificates: ${err.message}`);
      throw err;
    });
    return (await issueLeaf(ca, subject as string, spkiDer, now)).pem;
  }

  private async load(): Promise<SigningCa> {
    const f = files(this.config.dataDir);
    const given = this.config.deviceCa;
    const shared = this.config.databaseUrl !== undefined;
    let ca: SigningCa;
    const open = (certFile: string, keyFile: string) => {
      try {
        return loadCa(readText(certFile, 'the device CA certificate'), readText(keyFile, 'the device CA key'));
      } catch (err) {
        if (err instanceof X509Error) throw new TlsStartError(`the device CA ${certFile}: ${err.message}`);
        throw err;
      }
    };
    if (given) ca = open(given.certFile, given.keyFile);
    else if (existsSync(f.ca) && existsSync(f.caKey)) ca = open(f.ca, f.caKey);
    else {
      const recorded = shared ? await this.record.recordedDeviceCa() : undefined;
      if (recorded !== undefined) {
        throw new TlsStartError(
          `the instances on this PostgreSQL database sign device certificates with CA ${recorded}, and this one would generate its own in ${f.dir}: give it the same CA files (--device-ca-cert/--device-ca-key, or copy the first instance's tls/ directory, with --tls-cert/--tls-key)`,
        );
      }
      mkdirSync(f.dir, { recursive: true, mode: 0o700 });
      const made = await newCa('fleetjobs CA', new Date(this.now()));
      writeSecret(f.caKey, made.keyPem);
      writeFileSync(f.ca, made.certPem);
      ca = loadCa(made.certPem, made.keyPem);
    }
    const recorded = await this.record.recordDeviceCa(ca.certificate.id, this.now());
    if (recorded !== ca.certificate.id) {
      throw new TlsStartError(
        `the instances on this database sign device certificates with CA ${recorded}, not with this instance's CA ${ca.certificate.id}: give every instance the same CA files (--device-ca-cert/--device-ca-key)`,
      );
    }
    return ca;
  }
}

/** Loads (or, with --tls and no certificate given, makes once) what the TLS listeners serve. */
export async function openTlsMaterial(config: Config, record: Pick<CaCertificateStore, 'recordDeviceCa' | 'recordedDeviceCa'>, now: () => number): Promise<TlsMaterial> {
  const deviceCa = new DeviceCa(config, record, now);
  if (!config.tls) return { deviceCa };
  if (config.tls.certFile !== undefined) {
    const server = { certPem: readText(config.tls.certFile, 'the TLS certificate'), keyPem: readText(config.tls.keyFile!, 'the TLS key') };
    // The device CA is needed at once: the listeners verify client certificates against it.
    await deviceCa.get();
    return { server, deviceCa };
  }
  const f = files(config.dataDir);
  // The generated server certificate is the generated CA's: with --device-ca-* the CA files are
  // the operator's, and the server certificate is issued by them.
  const ca = await deviceCa.get();
  if (!existsSync(f.server) || !existsSync(f.serverKey)) {
    mkdirSync(f.dir, { recursive: true, mode: 0o700 });
    const made = await newServerCertificate(ca, ['localhost'], ['127.0.0.1', '::1'], new Date(now()));
    writeSecret(f.serverKey, made.keyPem);
    writeFileSync(f.server, made.certPem);
  }
  const caFile = config.deviceCa ? config.deviceCa.certFile : f.ca;
  return { server: { certPem: readFileSync(f.server, 'utf8'), keyPem: readFileSync(f.serverKey, 'utf8') }, generatedCaFile: caFile, deviceCa };
}
