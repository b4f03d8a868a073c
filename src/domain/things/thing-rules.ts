import { DomainError } from '../errors.js';
import { FieldErrors, NO_CONTROL_CHARS, setOwn } from '../validation.js';

/** Field constraints and shared rules of the thing registry (things-and-shadows.md §2, §3.2, §4.2, §9). */
/** Thing (and thing group) names, wherever a request names one: registry, jobs, shadows. */
export const NAME = { min: 1, max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' };
export const ATTRIBUTE_NAME = { min: 1, max: 128, pattern: /^[a-zA-Z0-9_.,@/:#-]+$/, patternText: '[a-zA-Z0-9_.,@/:#-]+' };
export const ATTRIBUTE_VALUE = { max: 800, pattern: /^[a-zA-Z0-9_.,@/:#=[\]-]*$/, patternText: '[a-zA-Z0-9_.,@/:#=\\[\\]-]*' };
/** `[\p{Graph}\x20]*`; read as "no control characters" (Java's \p{Graph} would also refuse non-ASCII text). */
const DESCRIPTION_PATTERN_TEXT = '[\\p{Graph}\\x20]*';
export const ARN_MAX = 2048;

/** Registry quotas; the unverified ones are settings (§11). */
export interface RegistryLimits {
  maxAttributesWithoutType: number;
  maxAttributesWithType: number;
  maxGroupAttributes: number;
  maxGroupsPerThing: number;
  maxGroupDepth: number;
  maxChildGroups: number;
  maxSearchableAttributes: number;
  /** A thing type must have been deprecated this long before it can be deleted. */
  thingTypeDeleteDelayMs: number;
  /** DeleteThing of a missing thing: 200 as the API reference says (§11 #1), or 404. */
  deleteMissingThingSucceeds: boolean;
}

export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = {
  maxAttributesWithoutType: 3,
  maxAttributesWithType: 50,
  maxGroupAttributes: 50,
  maxGroupsPerThing: 10,
  maxGroupDepth: 7,
  maxChildGroups: 100,
  maxSearchableAttributes: 3,
  thingTypeDeleteDelayMs: 5 * 60 * 1000,
  deleteMissingThingSucceeds: true,
};

export const thingTypeNotFound = (name: string) => new DomainError('ResourceNotFoundException', `Thing Type ${name} cannot be found.`);
export const thingGroupNotFound = (name: string) => new DomainError('ResourceNotFoundException', `Thing Group ${name} cannot be found.`);

export function checkName(errors: FieldErrors, value: unknown, path: string, required = true): string | undefined {
  return errors.string(value, path, { required, ...NAME });
}

export function checkDescription(errors: FieldErrors, value: unknown, path: string): string | undefined {
  const text = errors.string(value, path, { max: 2028 });
  if (text !== undefined && text.length > 0 && !NO_CONTROL_CHARS.test(text)) {
    errors.add(text, path, `Member must satisfy regular expression pattern: ${DESCRIPTION_PATTERN_TEXT}`);
    return undefined;
  }
  return text;
}

/** `expectedVersion` (body or query): a long. */
export function checkExpectedVersion(errors: FieldErrors, value: unknown): number | undefined {
  return errors.number(value, 'expectedVersion', { integer: true });
}

export interface AttributePayload {
  /** Undefined when the payload carries no `attributes`: the stored ones stay as they are. */
  attributes?: Record<string, string>;
  merge: boolean;
}

/** `attributePayload: {attributes, merge}` (§3.2). */
export function checkAttributePayload(errors: FieldErrors, value: unknown, path: string): AttributePayload | undefined {
  const payload = errors.object(value, path);
  if (!payload) return undefined;
  const merge = errors.boolean(payload.merge, `${path}.merge`) ?? false;
  if (payload.attributes === undefined || payload.attributes === null) return { merge };
  const attributes = errors.stringMap(payload.attributes, `${path}.attributes`, { key: ATTRIBUTE_NAME, value: ATTRIBUTE_VALUE });
  return attributes === undefined ? undefined : { attributes, merge };
}

/**
 * The attributes after applying a payload: merge adds and overwrites keys, and `""` removes one;
 * otherwise the given map replaces everything (and `""` values are dropped there too, §3.5).
 */
export function applyAttributes(current: Record<string, string>, payload: AttributePayload | undefined): Record<string, string> {
  if (!payload || payload.attributes === undefined) return current;
  const out: Record<string, string> = payload.merge ? { ...current } : {};
  for (const [k, v] of Object.entries(payload.attributes)) {
    if (v === '') delete out[k];
    else setOwn(out, k, v); // a key named __proto__ is an attribute like any other
  }
  return sortKeys(out);
}

export function checkThingAttributeCount(attributes: Record<string, string>, typed: boolean, limits: RegistryLimits): void {
  const max = typed ? limits.maxAttributesWithType : limits.maxAttributesWithoutType;
  const n = Object.keys(attributes).length;
  if (n > max) {
    throw new DomainError(
      'InvalidRequestException',
      typed
        ? `A thing with a thing type can have at most ${max} attributes; the request would give it ${n}.`
        : `A thing without a thing type can have at most ${max} attributes; the request would give it ${n}.`,
    );
  }
}

/** Stable key order, so stored attribute documents compare equal whatever order they came in. */
export function sortKeys(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(map).sort()) setOwn(out, k, map[k]);
  return out;
}

export function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

export function parseAttributes(json: string): Record<string, string> {
  return JSON.parse(json) as Record<string, string>;
}

/** A static-group operation named a dynamic group (fleet-indexing.md §8.2; AWS's text for DeleteThingGroup). */
export const dynamicGroupRefused = (arn: string) =>
  new DomainError('InvalidRequestException', `This operation does not support dynamic thing groups. Thing group arn: ${arn}`);

/** A dynamic-group operation named a static group (fleet-indexing.md §8.2). */
export const staticGroupRefused = (arn: string) =>
  new DomainError('InvalidRequestException', `This operation only supports dynamic thing groups. Thing group arn: ${arn}`);

/** A static thing group's dynamic-group columns (migration 0020): all empty. */
export const STATIC_GROUP = {
  query_string: null, index_name: null, query_version: null, predicate: null, dynamic_status: null, build_after: null, build_generation: null,
  build_done: null, build_not_before: null,
} as const;
