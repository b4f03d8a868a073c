import { DomainError, invalidRequest } from '../errors.js';
import { isObject, type JsonObject, type JsonValue } from './json-value.js';
import type { StateUpdate } from './merge.js';

/** An update request document that passed §6.1 steps 1–8 (all but the version comparison and size). */
export interface UpdateRequest {
  state: StateUpdate;
  clientToken?: string;
  version?: number;
}

export const MESSAGES = {
  invalidJson: 'Invalid JSON',
  missingState: 'Missing required node: state',
  stateNotObject: 'State node must be an object',
  invalidNode: 'State contains an invalid node',
  desiredNotObject: 'Desired node must be an object',
  reportedNotObject: 'Reported node must be an object',
  // AWS's documented text, sent as is whatever depth limit is configured (§11 #8).
  tooDeep: 'JSON contains too many levels of nesting; maximum is 6',
  invalidClientToken: 'Invalid clientToken',
  invalidVersion: 'Invalid version',
  tooLarge: 'The payload exceeds the maximum size allowed',
} as const;

const MAX_CLIENT_TOKEN_BYTES = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a raw UpdateThingShadow / MQTT `update` payload and validates it in AWS's order
 * (things-and-shadows.md §6.1): encoding, JSON, `state` shape, section shapes, the `$package`
 * keyword rule, depth, nulls in arrays, clientToken, version format. The first failure wins.
 * Members other than `state`, `clientToken` and `version` are ignored.
 */
export function parseUpdateRequest(payload: Uint8Array | string, options: { maxDepth: number; packageShadow: boolean }): UpdateRequest {
  let text: string;
  if (typeof payload === 'string') {
    text = payload;
  } else {
    try {
      text = utf8.decode(payload);
    } catch {
      throw new DomainError('UnsupportedDocumentEncodingException', 'Unsupported documented encoding; supported encoding is UTF-8');
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest(MESSAGES.invalidJson);
  }
  return validateUpdateRequest(parsed, options);
}

/** §6.1 steps 2–8 on an already parsed document (the MQTT door may parse once itself). */
export function validateUpdateRequest(doc: unknown, options: { maxDepth: number; packageShadow: boolean }): UpdateRequest {
  if (!isObject(doc) || !Object.hasOwn(doc, 'state')) throw invalidRequest(MESSAGES.missingState);
  const state = doc.state;
  if (state !== null && !isObject(state)) throw invalidRequest(MESSAGES.stateNotObject);

  let update: StateUpdate = null;
  if (state !== null) {
    for (const key of Object.keys(state)) {
      if (key !== 'desired' && key !== 'reported') throw invalidRequest(MESSAGES.invalidNode);
    }
    const desired = state.desired;
    const reported = state.reported;
    if (desired !== undefined && desired !== null && !isObject(desired)) throw invalidRequest(MESSAGES.desiredNotObject);
    if (reported !== undefined && reported !== null && !isObject(reported)) throw invalidRequest(MESSAGES.reportedNotObject);
    update = {};
    if (desired !== undefined) update.desired = desired as JsonObject | null;
    if (reported !== undefined) update.reported = reported as JsonObject | null;

    if (options.packageShadow && isObject(reported)) checkPackageReported(reported);
    for (const section of [desired, reported]) {
      if (isObject(section) && deeperThan(section, options.maxDepth)) throw invalidRequest(MESSAGES.tooDeep);
    }
    for (const section of [desired, reported]) {
      if (isObject(section) && hasNullInArray(section)) throw invalidRequest(MESSAGES.invalidJson);
    }
  }

  const out: UpdateRequest = { state: update };
  const clientToken = doc.clientToken;
  if (clientToken !== undefined && clientToken !== null) {
    if (typeof clientToken !== 'string' || Buffer.byteLength(clientToken, 'utf8') > MAX_CLIENT_TOKEN_BYTES) {
      throw invalidRequest(MESSAGES.invalidClientToken);
    }
    out.clientToken = clientToken;
  }
  const version = doc.version;
  if (version !== undefined && version !== null) {
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw invalidRequest(MESSAGES.invalidVersion);
    out.version = version;
  }
  return out;
}

/**
 * `$package` keeps only `version` and `attributes` per package (packages.md §12): each
 * `state.reported.<pkg>` is an object with a subset of those keys, or null to remove the package.
 */
function checkPackageReported(reported: JsonObject): void {
  for (const pkg of Object.keys(reported)) {
    const entry = reported[pkg];
    if (entry === null) continue;
    if (!isObject(entry)) throw invalidRequest(MESSAGES.invalidNode);
    for (const key of Object.keys(entry)) {
      if (key !== 'version' && key !== 'attributes') throw invalidRequest(MESSAGES.invalidNode);
    }
  }
}

/**
 * Whether a value nests more than `levels` containers deep (the container itself is level 1, each
 * nested object or array adds one). Stops descending at the limit, so a hostile, deeply nested body
 * cannot exhaust the stack here; every later walk then works on bounded depth.
 */
export function deeperThan(value: JsonValue, levels: number): boolean {
  if (Array.isArray(value)) return levels <= 0 || value.some((v) => deeperThan(v, levels - 1));
  if (isObject(value)) return levels <= 0 || Object.keys(value).some((k) => deeperThan(value[k], levels - 1));
  return false;
}

function hasNullInArray(value: JsonValue): boolean {
  if (Array.isArray(value)) return value.some((v) => v === null || hasNullInArray(v));
  if (isObject(value)) return Object.keys(value).some((k) => hasNullInArray(value[k]));
  return false;
}
