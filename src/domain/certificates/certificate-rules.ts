import type { CaCertificateRow, CertificateRow, DateCursor } from '../../store/certificates.js';
import { DomainError } from '../errors.js';
import { decodeToken, encodeToken } from '../pagination.js';
import { FieldErrors } from '../validation.js';

/** Certificate rules that need no storage (device-security.md §2, §3.2, §3.5). */
export const errors = () => new FieldErrors('InvalidRequestException');

export const CERTIFICATE_STATUSES = ['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'];
/** What a caller may set (the others are AWS's internal states). */
export const SETTABLE_STATUSES = ['ACTIVE', 'INACTIVE', 'REVOKED'];
const CERT_ID = /^(0x)?[a-fA-F0-9]+$/;

/** A certificate id as given (64 hex), lower-cased for the lookup. */
export function checkCertificateId(e: FieldErrors, value: unknown, path = 'certificateId'): string | undefined {
  const id = e.string(value, path, { required: true, min: 64, max: 64, pattern: CERT_ID, patternText: '(0x)?[a-fA-F0-9]+' });
  return id?.toLowerCase();
}

export const certificateNotFound = (id: string) => new DomainError('ResourceNotFoundException', `The certificate given in the request does not exist: ${id}`);
export const caNotFound = (id: string) => new DomainError('ResourceNotFoundException', `The CA certificate given in the request does not exist: ${id}`);

/**
 * UpdateCertificate's transition (§3.2): the same status is a no-op ('same'); a revoked
 * certificate never changes; AWS's internal states cannot be set.
 */
export function certificateTransition(id: string, from: string, to: string): 'same' | 'change' {
  if (!SETTABLE_STATUSES.includes(to)) throw new DomainError('InvalidRequestException', `The status ${to} cannot be set by UpdateCertificate: use ACTIVE, INACTIVE or REVOKED.`);
  if (from === to) return 'same';
  if (from === 'REVOKED') throw new DomainError('CertificateStateException', `Certificate ${id} is REVOKED: a revoked certificate's status cannot change.`);
  return 'change';
}

/** Register*'s `status` (ACTIVE, INACTIVE or REVOKED), else the deprecated setAsActive. */
export function checkRegisterStatus(e: FieldErrors, status: unknown, setAsActive: unknown): string {
  const s = e.string(status, 'status', { enum: CERTIFICATE_STATUSES });
  const active = e.boolean(setAsActive, 'setAsActive');
  if (s !== undefined && !SETTABLE_STATUSES.includes(s)) {
    e.addRaw(`The status ${s} cannot be given to a registered certificate: use ACTIVE, INACTIVE or REVOKED.`);
  }
  return s ?? (active ? 'ACTIVE' : 'INACTIVE');
}

export interface ListInput {
  pageSize?: unknown;
  marker?: unknown;
  ascendingOrder?: unknown;
}

/** pageSize 1–250 (25), marker ≤ 1024, isAscendingOrder; the cursor a marker names. */
export function checkListing(e: FieldErrors, input: ListInput, list: string): { limit: number; ascending: boolean; after?: DateCursor } {
  const limit = e.number(input.pageSize, 'pageSize', { integer: true, min: 1, max: 250 }) ?? 25;
  const marker = e.string(input.marker, 'marker', { max: 1024 });
  const ascending = e.boolean(input.ascendingOrder, 'ascendingOrder') ?? false;
  e.throwIfAny();
  const after = decodeToken(list, marker, 'InvalidRequestException', isDateCursor);
  return { limit, ascending, ...(after ? { after } : {}) };
}

const isDateCursor = (k: unknown): k is DateCursor => Array.isArray(k) && k.length === 2 && typeof k[0] === 'number' && typeof k[1] === 'string';

/** A page of rows fetched with limit + 1, and its nextMarker. */
export function markerPage<R extends { created_at: number; certificate_id: string }>(rows: R[], limit: number, list: string): { items: R[]; nextMarker?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextMarker: encodeToken(list, [last.created_at, last.certificate_id]) };
}

const date = (ms: number) => new Date(ms);

/** CertificateDescription (§3.5). */
export function describeCertificate(row: CertificateRow, arn: string, accountId: string) {
  return {
    certificateArn: arn,
    certificateId: row.certificate_id,
    ...(row.ca_certificate_id !== null ? { caCertificateId: row.ca_certificate_id } : {}),
    status: row.status,
    certificatePem: row.certificate_pem,
    ownedBy: accountId,
    creationDate: date(row.created_at),
    lastModifiedDate: date(row.last_modified_at),
    customerVersion: row.customer_version,
    transferData: {},
    generationId: row.generation_id,
    validity: { notBefore: date(row.not_before), notAfter: date(row.not_after) },
    certificateMode: row.certificate_mode,
  };
}

/** CACertificateDescription (§3.5). */
export function describeCaCertificate(row: CaCertificateRow, arn: string, accountId: string) {
  return {
    certificateArn: arn,
    certificateId: row.certificate_id,
    status: row.status,
    certificatePem: row.certificate_pem,
    ownedBy: accountId,
    creationDate: date(row.created_at),
    autoRegistrationStatus: row.auto_registration_status,
    lastModifiedDate: date(row.last_modified_at),
    customerVersion: row.customer_version,
    generationId: row.generation_id,
    validity: { notBefore: date(row.not_before), notAfter: date(row.not_after) },
    certificateMode: row.certificate_mode,
  };
}
