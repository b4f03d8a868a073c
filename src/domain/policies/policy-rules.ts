import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/store.js';
import { DomainError } from '../errors.js';
import { FieldErrors } from '../validation.js';

/** Shared rules of the policy operations (device-security.md §5.1–5.2). */

export const policyErrors = () => new FieldErrors('InvalidRequestException');

/** AWS's answer for a policy that does not exist (live text). */
export const policyNotFound = () => new DomainError('ResourceNotFoundException', 'Policy not found');

export const MAX_VERSIONS = 5;
/** Policies attached to one certificate (AWS's quota) and to one thing group. */
export const MAX_POLICIES_PER_CERTIFICATE = 10;
export const MAX_POLICIES_PER_THING_GROUP = 2;

const POLICY_NAME = { min: 1, max: 128, pattern: /^[\w+=,.@-]+$/, patternText: '[\\w+=,.@-]+' };

export function checkPolicyName(e: FieldErrors, value: unknown): string | undefined {
  return e.string(value, 'policyName', { required: true, ...POLICY_NAME });
}

/** A version id: decimal digits (the model's pattern); ids are positive integers. */
export function checkVersionId(e: FieldErrors, value: unknown): number | undefined {
  const id = e.string(value, 'policyVersionId', { required: true, pattern: /^[0-9]+$/, patternText: '[0-9]+' });
  if (id === undefined) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : -1;
}

export function checkPageSize(e: FieldErrors, value: unknown): number {
  if (value === undefined) return 250;
  return e.number(value, 'pageSize', { integer: true, min: 1, max: 250 }) ?? 250;
}

/**
 * Markers of the policy lists: standard base64 (the model's `[A-Za-z0-9+/]+={0,2}`) of the last
 * key, tagged with its list so one list's marker is refused by another.
 */
export function encodeMarker(list: string, key: string): string {
  return Buffer.from(JSON.stringify([list, key]), 'utf8').toString('base64');
}

export function decodeMarker(list: string, marker: string | undefined): string | undefined {
  if (marker === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(marker, 'base64').toString('utf8'));
    if (Array.isArray(parsed) && parsed[0] === list && typeof parsed[1] === 'string' && !parsed[1].includes('\u0000')) return parsed[1];
  } catch {
    // fall through
  }
  throw new DomainError('InvalidRequestException', 'The marker is invalid.');
}

/** A page of `limit + 1` rows: the items and, when more follow, the next marker. */
export function markerPage<R>(rows: R[], limit: number, list: string, keyOf: (r: R) => string): { items: R[]; nextMarker?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextMarker: encodeMarker(list, keyOf(items[items.length - 1])) };
}

/** Things named in one change up to which other instances re-bind only theirs; beyond, every connection. */
const THING_ROWS_MAX = 1000;

/**
 * Told whenever what a device may do could have changed: a policy's default version, an
 * attachment, a thing's groups. The MQTT door re-binds its connections' policies then. A change is
 * `record`ed in its own transaction: this instance's listeners hear of it after commit, and the
 * row it writes (store/policy-changes.ts) is how the other instances sharing the database hear of
 * it within about a second (workers/policy-change-reconciler.ts, decision 0049).
 */
export class PolicyChangeFeed {
  private readonly listeners: ((thingName?: string) => void)[] = [];
  /** This feed in the change log: its own rows are not heard a second time. */
  readonly origin = randomUUID();

  /** `thingName` set: only that thing's connections are concerned (its groups changed). */
  subscribe(listener: (thingName?: string) => void): void {
    this.listeners.push(listener);
  }

  /** In the change's transaction: no thing names means every connection is concerned. */
  async record(tx: Store, thingNames?: readonly string[]): Promise<void> {
    if (thingNames?.length === 0) return;
    await tx.policyChanges.record(this.origin, thingNames === undefined || thingNames.length > THING_ROWS_MAX ? [null] : thingNames);
    tx.afterCommit(() => {
      if (thingNames === undefined) this.changed();
      else for (const t of thingNames) this.changed(t);
    });
  }

  /** Tells the listeners; outside `record`, only for a change another instance recorded. */
  changed(thingName?: string): void {
    for (const l of this.listeners) l(thingName);
  }
}
