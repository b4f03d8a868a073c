import { randomBytes, randomUUID } from 'node:crypto';
import { parseCertificate, signedBy } from '../../crypto/x509.js';
import type { CaCertificateRow } from '../../store/certificates.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { checkTagList } from '../tags/tag-rules.js';
import type { CertificateEvents } from './certificate-ports.js';
import { caNotFound, checkCertificateId, checkListing, describeCaCertificate, errors, markerPage, type ListInput } from './certificate-rules.js';
import { checkSignatureAlgorithm, parseOrRefuse } from './certificate-service.js';

/** AWS's limit of CAs registered with one subject (device-security.md §3.3). */
const MAX_CAS_PER_SUBJECT = 10;
const PEM = { required: true, min: 1, max: 65536 };

/**
 * Registered CA certificates (issue 11 item 2): the registration code, RegisterCACertificate with
 * its verification certificate, Describe / List / Update / Delete. JITR (allowAutoRegistration)
 * is stored and not acted on (§10 D10).
 */
export class CaCertificateService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly events: CertificateEvents,
  ) {}

  async getRegistrationCode() {
    const code = await this.ctx.store.caCertificates.createRegistrationCode(randomBytes(32).toString('hex'));
    return { registrationCode: code };
  }

  async deleteRegistrationCode() {
    if (!(await this.ctx.store.caCertificates.deleteRegistrationCode())) throw new DomainError('ResourceNotFoundException', 'There is no registration code to delete.');
    return {};
  }

  async registerCaCertificate(input: {
    caCertificate?: unknown; verificationCertificate?: unknown; setAsActive?: unknown; allowAutoRegistration?: unknown;
    registrationConfig?: unknown; tags?: unknown; certificateMode?: unknown;
  }) {
    const e = errors();
    const caPem = e.string(input.caCertificate, 'caCertificate', PEM);
    const verificationPem = e.string(input.verificationCertificate, 'verificationCertificate', { ...PEM, required: false });
    const active = e.boolean(input.setAsActive, 'setAsActive') ?? false;
    const auto = e.boolean(input.allowAutoRegistration, 'allowAutoRegistration') ?? false;
    const mode = e.string(input.certificateMode, 'certificateMode', { enum: ['DEFAULT', 'SNI_ONLY'] }) ?? 'DEFAULT';
    const config = this.checkRegistrationConfig(e, input.registrationConfig);
    const tags = checkTagList(e, input.tags, 'tags');
    e.throwIfAny();
    const ca = parseOrRefuse(caPem!);
    if (!ca.isCa) throw new DomainError('CertificateValidationException', 'The certificate is not a CA certificate (basicConstraints CA:TRUE is missing).');
    checkSignatureAlgorithm(ca);
    if (mode === 'SNI_ONLY' && verificationPem !== undefined) {
      throw new DomainError('InvalidRequestException', 'A verification certificate must not be given for a CA certificate in SNI_ONLY mode.');
    }
    if (mode === 'DEFAULT') {
      if (verificationPem === undefined) throw new DomainError('InvalidRequestException', 'A verification certificate is required for a CA certificate in DEFAULT mode.');
      const code = await this.ctx.store.caCertificates.registrationCode();
      const verification = parseOrRefuse(verificationPem);
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(verification.subject)?.[1];
      if (code === undefined || cn !== code || !signedBy(verification, ca)) {
        throw new DomainError('RegistrationCodeValidationException', 'The verification certificate is not signed by the CA certificate or its common name is not the registration code.');
      }
    }
    const now = this.ctx.clock.now();
    const row: CaCertificateRow = {
      certificate_id: ca.id,
      certificate_pem: ca.pem,
      subject: ca.subject,
      status: active ? 'ACTIVE' : 'INACTIVE',
      auto_registration_status: auto ? 'ENABLE' : 'DISABLE',
      certificate_mode: mode,
      registration_config: config ? JSON.stringify(config) : null,
      not_before: ca.notBefore.getTime(),
      not_after: ca.notAfter.getTime(),
      customer_version: 1,
      generation_id: randomUUID(),
      created_at: now,
      last_modified_at: now,
    };
    const arn = this.ctx.arns.caCertificate(ca.id);
    await this.ctx.store.transaction(async (tx) => {
      if ((await tx.caCertificates.bySubject(ca.subject)).length >= MAX_CAS_PER_SUBJECT) {
        throw new DomainError('LimitExceededException', `At most ${MAX_CAS_PER_SUBJECT} CA certificates can be registered with the same subject.`);
      }
      if (!(await tx.caCertificates.insert(row))) {
        throw new DomainError('ResourceAlreadyExistsException', 'The CA certificate is already registered', { resourceId: ca.id, resourceArn: arn });
      }
      if (tags) await tx.tags.put(arn, tags);
      tx.afterCommit(() => this.events.caCertificatesChanged());
    });
    return { certificateArn: arn, certificateId: ca.id };
  }

  async describeCaCertificate(input: { certificateId?: unknown }) {
    const e = errors();
    const id = checkCertificateId(e, input.certificateId, 'caCertificateId');
    e.throwIfAny();
    const row = await this.ctx.store.caCertificates.get(id!);
    if (!row) throw caNotFound(id!);
    return {
      certificateDescription: describeCaCertificate(row, this.ctx.arns.caCertificate(row.certificate_id), this.ctx.arns.accountId),
      ...(row.registration_config !== null ? { registrationConfig: JSON.parse(row.registration_config) as unknown } : {}),
    };
  }

  async listCaCertificates(input: ListInput & { templateName?: unknown }) {
    const e = errors();
    e.string(input.templateName, 'templateName', { min: 1, max: 36 });
    const { limit, ascending, after } = checkListing(e, input, 'cacertificates');
    const rows = await this.ctx.store.caCertificates.list({ ascending, after, limit: limit + 1 });
    const { items, nextMarker } = markerPage(rows, limit, 'cacertificates');
    return {
      certificates: items.map((r) => ({
        certificateArn: this.ctx.arns.caCertificate(r.certificate_id),
        certificateId: r.certificate_id,
        status: r.status,
        creationDate: new Date(r.created_at),
      })),
      ...(nextMarker ? { nextMarker } : {}),
    };
  }

  async updateCaCertificate(input: { certificateId?: unknown; newStatus?: unknown; newAutoRegistrationStatus?: unknown; registrationConfig?: unknown; removeAutoRegistration?: unknown }) {
    const e = errors();
    const id = checkCertificateId(e, input.certificateId, 'caCertificateId');
    const status = e.string(input.newStatus, 'newStatus', { enum: ['ACTIVE', 'INACTIVE'] });
    const auto = e.string(input.newAutoRegistrationStatus, 'newAutoRegistrationStatus', { enum: ['ENABLE', 'DISABLE'] });
    const config = this.checkRegistrationConfig(e, input.registrationConfig);
    const remove = e.boolean(input.removeAutoRegistration, 'removeAutoRegistration') ?? false;
    e.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      const row = await tx.caCertificates.getForUpdate(id!);
      if (!row) throw caNotFound(id!);
      const change: Partial<CaCertificateRow> = {};
      if (status !== undefined && status !== row.status) change.status = status;
      if (auto !== undefined && auto !== row.auto_registration_status) change.auto_registration_status = auto;
      if (config !== undefined) change.registration_config = JSON.stringify(config);
      if (remove) change.registration_config = null;
      if (Object.keys(change).length === 0) return;
      await tx.caCertificates.update(id!, { ...change, customer_version: row.customer_version + 1, generation_id: randomUUID(), last_modified_at: this.ctx.clock.now() });
      if (change.status !== undefined) tx.afterCommit(() => this.events.caCertificatesChanged());
    });
    return {};
  }

  async deleteCaCertificate(input: { certificateId?: unknown }) {
    const e = errors();
    const id = checkCertificateId(e, input.certificateId, 'caCertificateId');
    e.throwIfAny();
    await this.ctx.store.transaction(async (tx) => {
      const row = await tx.caCertificates.getForUpdate(id!);
      if (!row) throw caNotFound(id!);
      if (row.status === 'ACTIVE') throw new DomainError('CertificateStateException', `CA certificate must be deactivated (not ACTIVE) before deletion. Id: ${id}`);
      await tx.caCertificates.delete(id!);
      await tx.tags.removeAll(this.ctx.arns.caCertificate(id!));
      tx.afterCommit(() => this.events.caCertificatesChanged());
    });
    return {};
  }

  /** registrationConfig {templateBody, roleArn, templateName}: provisioning templates are not served, so a templateName is unknown. */
  private checkRegistrationConfig(e: ReturnType<typeof errors>, value: unknown): Record<string, string> | undefined {
    const c = e.object(value, 'registrationConfig');
    if (!c) return undefined;
    const templateBody = e.string(c.templateBody, 'registrationConfig.templateBody', { max: 10240 });
    const roleArn = e.string(c.roleArn, 'registrationConfig.roleArn', { min: 20, max: 2048 });
    const templateName = e.string(c.templateName, 'registrationConfig.templateName', { min: 1, max: 36 });
    if (templateName !== undefined) throw new DomainError('ResourceNotFoundException', `The provisioning template ${templateName} does not exist.`);
    return Object.fromEntries(Object.entries({ templateBody, roleArn }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  }
}

