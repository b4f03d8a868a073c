import { randomUUID } from 'node:crypto';
import { AWS_LEAF_SUBJECT, newRsaKeyPair, parseCertificate, readCsr, signedBy, spkiOf, X509Error, type ParsedCertificate } from '../../crypto/x509.js';
import type { CaCertificateRow, CertificateRow } from '../../store/certificates.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { noPolicyAttachments, type CertificateEvents, type CertificatePolicyAttachments, type DeviceCaPort } from './certificate-ports.js';
import {
  certificateNotFound,
  certificateTransition,
  checkCertificateId,
  checkListing,
  checkRegisterStatus,
  describeCertificate,
  errors,
  markerPage,
  type ListInput,
} from './certificate-rules.js';

/** The PEM text of a certificate member: 1–65536 characters. */
const PEM = { required: true, min: 1, max: 65536 };

/**
 * Device certificates (issue 11 item 2): issued by the server's device CA
 * (CreateKeysAndCertificate, CreateCertificateFromCsr), registered under a registered CA or
 * without one, described, listed, moved between ACTIVE / INACTIVE / REVOKED and deleted under
 * AWS's conflict rules (device-security.md §3).
 */
export class CertificateService {
  private policies: CertificatePolicyAttachments = noPolicyAttachments;

  constructor(
    private readonly ctx: DomainContext,
    private readonly deviceCa: DeviceCaPort,
    private readonly events: CertificateEvents,
  ) {}

  /** Plugs in the IoT policies' attachments for DeleteCertificate's conflict rule (certificate-ports.ts). */
  usePolicyAttachments(attachments: CertificatePolicyAttachments): void {
    this.policies = attachments;
  }

  async createKeysAndCertificate(input: { setAsActive?: unknown }) {
    const e = errors();
    const active = e.boolean(input.setAsActive, 'setAsActive') ?? false;
    e.throwIfAny();
    const keys = await newRsaKeyPair();
    const now = this.ctx.clock.now();
    const cert = parseCertificate(await this.deviceCa.issue(AWS_LEAF_SUBJECT, spkiOf(keys.publicKey), new Date(now)));
    await this.store(cert, active ? 'ACTIVE' : 'INACTIVE', null, 'DEFAULT', now);
    return {
      certificateArn: this.ctx.arns.certificate(cert.id),
      certificateId: cert.id,
      certificatePem: cert.pem,
      keyPair: { PublicKey: keys.publicKeyPem, PrivateKey: keys.privateKeyPem },
    };
  }

  async createCertificateFromCsr(input: { certificateSigningRequest?: unknown; setAsActive?: unknown }) {
    const e = errors();
    const csrPem = e.string(input.certificateSigningRequest, 'certificateSigningRequest', { required: true, min: 1, max: 4096 });
    const active = e.boolean(input.setAsActive, 'setAsActive') ?? false;
    e.throwIfAny();
    const csr = await readCsr(csrPem!).catch((err: unknown) => {
      throw err instanceof X509Error ? new DomainError('InvalidRequestException', err.message) : err;
    });
    const now = this.ctx.clock.now();
    const cert = parseCertificate(await this.deviceCa.issue(csr.subject, csr.spkiDer, new Date(now)));
    await this.store(cert, active ? 'ACTIVE' : 'INACTIVE', null, 'DEFAULT', now);
    return { certificateArn: this.ctx.arns.certificate(cert.id), certificateId: cert.id, certificatePem: cert.pem };
  }

  async registerCertificate(input: { certificatePem?: unknown; caCertificatePem?: unknown; status?: unknown; setAsActive?: unknown }) {
    const e = errors();
    const pem = e.string(input.certificatePem, 'certificatePem', PEM);
    const caPem = e.string(input.caCertificatePem, 'caCertificatePem', { ...PEM, required: false });
    const status = checkRegisterStatus(e, input.status, input.setAsActive);
    e.throwIfAny();
    const cert = parseOrRefuse(pem!);
    checkSignatureAlgorithm(cert);
    return this.ctx.store.transaction(async (tx) => {
      const ca = await this.signingCa(tx, cert, caPem);
      const now = this.ctx.clock.now();
      await this.store(cert, status, ca.certificate_id, ca.certificate_mode, now, tx);
      return { certificateArn: this.ctx.arns.certificate(cert.id), certificateId: cert.id };
    });
  }

  async registerCertificateWithoutCA(input: { certificatePem?: unknown; status?: unknown }) {
    const e = errors();
    const pem = e.string(input.certificatePem, 'certificatePem', PEM);
    const status = checkRegisterStatus(e, input.status, undefined);
    e.throwIfAny();
    const cert = parseOrRefuse(pem!);
    checkSignatureAlgorithm(cert);
    await this.store(cert, status, null, 'SNI_ONLY', this.ctx.clock.now());
    return { certificateArn: this.ctx.arns.certificate(cert.id), certificateId: cert.id };
  }

  async describeCertificate(input: { certificateId?: unknown }) {
    const id = this.id(input.certificateId);
    const row = await this.ctx.store.certificates.get(id);
    if (!row) throw certificateNotFound(id);
    return { certificateDescription: describeCertificate(row, this.ctx.arns.certificate(id), this.ctx.arns.accountId) };
  }

  async listCertificates(input: ListInput & { caCertificateId?: unknown }) {
    const e = errors();
    const caId = input.caCertificateId === undefined ? undefined : checkCertificateId(e, input.caCertificateId, 'caCertificateId');
    const listName = caId === undefined ? 'certificates' : `certificates-by-ca/${caId}`;
    const { limit, ascending, after } = checkListing(e, input, listName);
    const rows = await this.ctx.store.certificates.list({ ascending, after, limit: limit + 1, ...(caId !== undefined ? { caCertificateId: caId } : {}) });
    const { items, nextMarker } = markerPage(rows, limit, listName);
    return {
      certificates: items.map((r) => ({
        certificateArn: this.ctx.arns.certificate(r.certificate_id),
        certificateId: r.certificate_id,
        status: r.status,
        certificateMode: r.certificate_mode,
        creationDate: new Date(r.created_at),
      })),
      ...(nextMarker ? { nextMarker } : {}),
    };
  }

  async updateCertificate(input: { certificateId?: unknown; newStatus?: unknown }) {
    const e = errors();
    const id = checkCertificateId(e, input.certificateId);
    const to = e.string(input.newStatus, 'newStatus', { required: true, enum: ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'] });
    e.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      const row = await tx.certificates.getForUpdate(id!);
      if (!row) throw certificateNotFound(id!);
      if (certificateTransition(id!, row.status, to!) === 'same') return;
      await tx.certificates.update(id!, { status: to!, ...this.bump(row) });
      if (to !== 'ACTIVE') tx.afterCommit(() => this.events.certificateRevoked(id!));
    });
    return {};
  }

  async deleteCertificate(input: { certificateId?: unknown; forceDelete?: unknown }) {
    const e = errors();
    const id = checkCertificateId(e, input.certificateId);
    const force = e.boolean(input.forceDelete, 'forceDelete') ?? false;
    e.throwIfAny();
    const arn = this.ctx.arns.certificate(id!);
    await this.ctx.store.transaction(async (tx) => {
      const row = await tx.certificates.getForUpdate(id!);
      if (!row) throw certificateNotFound(id!);
      if (row.status === 'ACTIVE') throw new DomainError('CertificateStateException', `Certificate must be deactivated (not ACTIVE) before deletion. Id: ${id}`);
      if ((await tx.thingPrincipals.countOfPrincipal(arn)) > 0) throw new DomainError('DeleteConflictException', `Things must be detached before deletion (arn: ${arn})`);
      if ((await this.policies.countAttachedTo(tx, arn)) > 0) {
        if (!force) throw new DomainError('DeleteConflictException', `Certificate policies must be detached before deletion (arn: ${arn})`);
        await this.policies.detachAllFrom(tx, arn);
      }
      await tx.certificates.delete(id!);
      await tx.tags.removeAll(arn);
      tx.afterCommit(() => this.events.certificateRevoked(id!));
    });
    return {};
  }

  private id(value: unknown): string {
    const e = errors();
    const id = checkCertificateId(e, value);
    e.throwIfAny();
    return id!;
  }

  private bump(row: { customer_version: number }) {
    return { customer_version: row.customer_version + 1, generation_id: randomUUID(), last_modified_at: this.ctx.clock.now() };
  }

  /** The registered CA that signed `cert` (§3.3): the one given, else the only match. */
  private async signingCa(tx: Store, cert: ParsedCertificate, caPem: string | undefined): Promise<CaCertificateRow> {
    let candidates: CaCertificateRow[];
    if (caPem !== undefined) {
      const given = parseOrRefuse(caPem);
      const row = await tx.caCertificates.get(given.id);
      candidates = row ? [row] : [];
      if (!row) throw new DomainError('CertificateValidationException', 'The CA certificate given in the request is not registered.');
    } else {
      candidates = await tx.caCertificates.bySubject(cert.issuer);
    }
    const signers = candidates.filter((c) => signedBy(cert, parseCertificate(c.certificate_pem)));
    if (signers.length === 0) throw new DomainError('CertificateValidationException', 'The certificate is not signed by a registered CA certificate.');
    if (signers.length > 1) throw new DomainError('CertificateConflictException', 'Several registered CA certificates could have signed this certificate: give caCertificatePem.');
    const ca = signers[0];
    if (ca.status !== 'ACTIVE') throw new DomainError('CertificateValidationException', `The CA certificate ${ca.certificate_id} is not ACTIVE.`);
    return ca;
  }

  private async store(cert: ParsedCertificate, status: string, caId: string | null, mode: string, now: number, store: Store = this.ctx.store): Promise<void> {
    const row: CertificateRow = {
      certificate_id: cert.id,
      certificate_pem: cert.pem,
      status,
      ca_certificate_id: caId,
      certificate_mode: mode,
      not_before: cert.notBefore.getTime(),
      not_after: cert.notAfter.getTime(),
      customer_version: 1,
      generation_id: randomUUID(),
      created_at: now,
      last_modified_at: now,
    };
    if (!(await store.certificates.insert(row))) {
      throw new DomainError('ResourceAlreadyExistsException', 'The certificate is already provisioned or registered', { resourceId: cert.id, resourceArn: this.ctx.arns.certificate(cert.id) });
    }
  }
}

export function parseOrRefuse(pem: string): ParsedCertificate {
  try {
    return parseCertificate(pem);
  } catch (err) {
    if (err instanceof X509Error) throw new DomainError('CertificateValidationException', err.message);
    throw err;
  }
}

/** §3.3: SHA256/384/512 with RSA, DSA or ECDSA. */
export function checkSignatureAlgorithm(cert: ParsedCertificate): void {
  if (!['SHA-256', 'SHA-384', 'SHA-512'].includes(cert.signatureAlgorithm)) {
    throw new DomainError('CertificateValidationException', 'The certificate is signed with an unsupported signature algorithm (SHA-256, SHA-384 or SHA-512 expected).');
  }
}
