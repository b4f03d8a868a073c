import type { Kysely } from 'kysely';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    certificates: CertificateRow;
    ca_certificates: CaCertificateRow;
    registration_codes: { name: string; code: string };
    server_device_ca: { name: string; certificate_id: string; created_at: number };
  }
}

export interface CertificateRow {
  certificate_id: string;
  certificate_pem: string;
  status: string;
  ca_certificate_id: string | null;
  certificate_mode: string;
  not_before: number;
  not_after: number;
  customer_version: number;
  generation_id: string;
  created_at: number;
  last_modified_at: number;
}

export interface CaCertificateRow extends Omit<CertificateRow, 'ca_certificate_id'> {
  subject: string;
  auto_registration_status: string;
  /** JSON of registrationConfig, or null. */
  registration_config: string | null;
}

/** A position in a list by creation date: (created_at, certificate_id). */
export type DateCursor = [number, string];

type Change = Pick<CertificateRow, 'status' | 'customer_version' | 'generation_id' | 'last_modified_at'>;

/** Device certificates (ACTIVE / INACTIVE / REVOKED …), keyed by sha256 of their DER. */
/** A client certificate's status at every TLS CONNECT (not its PEM): compiled once (reusable-query.ts). */
const certificateStatus = new ReusableQuery<[string], { status: string }>((db, [id]) => db.selectFrom('certificates').select('status').where('certificate_id', '=', id));

export class CertificateStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(id: string): Promise<CertificateRow | undefined> {
    return this.db.selectFrom('certificates').selectAll().where('certificate_id', '=', id).executeTakeFirst();
  }

  /** The certificate's status, undefined when it is not registered. */
  async statusOf(id: string): Promise<string | undefined> {
    return (await certificateStatus.run(this.db, this.dialect, [id])).rows[0]?.status;
  }

  getForUpdate(id: string): Promise<CertificateRow | undefined> {
    const q = this.db.selectFrom('certificates').selectAll().where('certificate_id', '=', id);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  /** False when a certificate with that id exists already. */
  async insert(row: CertificateRow): Promise<boolean> {
    const r = await this.db.insertInto('certificates').values(row).onConflict((oc) => oc.column('certificate_id').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** The ids among `ids` that name an ACTIVE certificate. */
  async activeAmong(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('certificates').select('certificate_id').where('certificate_id', 'in', ids).where('status', '=', 'ACTIVE').execute();
    return new Set(rows.map((r) => r.certificate_id));
  }

  async update(id: string, change: Change): Promise<void> {
    await this.db.updateTable('certificates').set(change).where('certificate_id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('certificates').where('certificate_id', '=', id).execute();
  }

  /** Newest first unless `ascending`; only those of `caCertificateId` when given. */
  list(o: { ascending: boolean; after?: DateCursor; limit: number; caCertificateId?: string }): Promise<CertificateRow[]> {
    const dir = o.ascending ? 'asc' : 'desc';
    let q = this.db.selectFrom('certificates').selectAll().orderBy('created_at', dir).orderBy('certificate_id', dir).limit(o.limit);
    if (o.caCertificateId !== undefined) q = q.where('ca_certificate_id', '=', o.caCertificateId);
    const after = o.after;
    if (after) {
      const op = o.ascending ? '>' : '<';
      q = q.where((eb) => eb.or([eb('created_at', op, after[0]), eb.and([eb('created_at', '=', after[0]), eb('certificate_id', op, after[1])])]));
    }
    return q.execute();
  }
}

/** Registered CA certificates, the registration code and the shared device CA's fingerprint. */
export class CaCertificateStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(id: string): Promise<CaCertificateRow | undefined> {
    return this.db.selectFrom('ca_certificates').selectAll().where('certificate_id', '=', id).executeTakeFirst();
  }

  getForUpdate(id: string): Promise<CaCertificateRow | undefined> {
    const q = this.db.selectFrom('ca_certificates').selectAll().where('certificate_id', '=', id);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  bySubject(subject: string): Promise<CaCertificateRow[]> {
    return this.db.selectFrom('ca_certificates').selectAll().where('subject', '=', subject).execute();
  }

  /** Every ACTIVE CA's PEM (the TLS listeners trust them). */
  async activePems(): Promise<string[]> {
    return (await this.db.selectFrom('ca_certificates').select('certificate_pem').where('status', '=', 'ACTIVE').execute()).map((r) => r.certificate_pem);
  }

  async insert(row: CaCertificateRow): Promise<boolean> {
    const r = await this.db.insertInto('ca_certificates').values(row).onConflict((oc) => oc.column('certificate_id').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(id: string, change: Partial<Omit<CaCertificateRow, 'certificate_id'>>): Promise<void> {
    await this.db.updateTable('ca_certificates').set(change).where('certificate_id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('ca_certificates').where('certificate_id', '=', id).execute();
  }

  list(o: { ascending: boolean; after?: DateCursor; limit: number; templateName?: string }): Promise<CaCertificateRow[]> {
    const dir = o.ascending ? 'asc' : 'desc';
    let q = this.db.selectFrom('ca_certificates').selectAll().orderBy('created_at', dir).orderBy('certificate_id', dir).limit(o.limit);
    const after = o.after;
    if (after) {
      const op = o.ascending ? '>' : '<';
      q = q.where((eb) => eb.or([eb('created_at', op, after[0]), eb.and([eb('created_at', '=', after[0]), eb('certificate_id', op, after[1])])]));
    }
    return q.execute();
  }

  async registrationCode(): Promise<string | undefined> {
    return (await this.db.selectFrom('registration_codes').select('code').where('name', '=', 'default').executeTakeFirst())?.code;
  }

  /** Stores `code` unless one exists; answers the code in force. */
  async createRegistrationCode(code: string): Promise<string> {
    await this.db.insertInto('registration_codes').values({ name: 'default', code }).onConflict((oc) => oc.column('name').doNothing()).execute();
    return (await this.registrationCode())!;
  }

  /** False when there was none. */
  async deleteRegistrationCode(): Promise<boolean> {
    const r = await this.db.deleteFrom('registration_codes').where('name', '=', 'default').executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The device CA recorded by the first instance on this database, or the one given now if none was. */
  async recordDeviceCa(certificateId: string, now: number): Promise<string> {
    await this.db.insertInto('server_device_ca').values({ name: 'default', certificate_id: certificateId, created_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
    return (await this.recordedDeviceCa())!;
  }

  async recordedDeviceCa(): Promise<string | undefined> {
    return (await this.db.selectFrom('server_device_ca').select('certificate_id').where('name', '=', 'default').executeTakeFirst())?.certificate_id;
  }
}
