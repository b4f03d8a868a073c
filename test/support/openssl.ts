import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Certificates made with the openssl command line, as an operator makes them: CAs, CSRs, leaves
 * signed by a CA, and AWS's verification certificate (CN = the registration code).
 */
export class OpensslWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'fleetjobs-openssl-'));
  private n = 0;

  private run(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private next(prefix: string): string {
    return join(this.dir, `${prefix}-${++this.n}`);
  }

  read(file: string): string {
    return readFileSync(file, 'utf8');
  }

  /** A self-signed CA (RSA-2048, CA:TRUE): its certificate and key files. */
  ca(cn: string): { cert: string; key: string; pem: string } {
    const base = this.next('ca');
    this.run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '365', '-keyout', `${base}.key`, '-out', `${base}.pem`, '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
    return { cert: `${base}.pem`, key: `${base}.key`, pem: this.read(`${base}.pem`) };
  }

  /** A key and CSR (`openssl req -new`), RSA of `bits` or EC P-256 with `ec`. */
  csr(subject: string, key: { rsaBits?: number; ec?: boolean } = {}): { csr: string; key: string; pem: string } {
    const base = this.next('csr');
    const newkey = key.ec ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', `rsa:${key.rsaBits ?? 2048}`];
    this.run(['req', '-new', ...newkey, '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject]);
    return { csr: `${base}.csr`, key: `${base}.key`, pem: this.read(`${base}.csr`) };
  }

  /** A leaf for `subject` signed by `ca`, with its key. */
  leaf(ca: { cert: string; key: string }, subject: string): { cert: string; key: string; pem: string; keyPem: string } {
    const req = this.csr(subject);
    const out = `${req.csr}.pem`;
    const ext = `${req.csr}.ext`;
    writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
    this.run(['x509', '-req', '-in', req.csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-sha256', '-days', '365', '-out', out, '-extfile', ext]);
    return { cert: out, key: req.key, pem: this.read(out), keyPem: this.read(req.key) };
  }

  /** Writes `text` to a file of the workspace. */
  write(name: string, text: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, text);
    return file;
  }

  /** `openssl verify -CAfile ca cert` succeeds. */
  verifies(caFile: string, certFile: string): boolean {
    try {
      this.run(['verify', '-CAfile', caFile, certFile]);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
