import { getOwn, isObject, setOwn, type JsonObject, type JsonValue } from './json-value.js';

/** Metadata leaf: when the leaf it mirrors was last written, in whole epoch seconds. */
export interface LeafMetadata {
  timestamp: number;
}

/**
 * Metadata mirroring `value` (things-and-shadows.md §6.3): every leaf (null included, for the
 * accepted document's echo of `null` deletions) becomes `{"timestamp": t}`; arrays get an array of
 * per-element metadata; objects recurse.
 */
export function metadataOf(value: JsonValue, timestamp: number): JsonValue {
  if (Array.isArray(value)) return value.map((v) => metadataOf(v, timestamp));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const k of Object.keys(value)) setOwn(out, k, metadataOf(value[k], timestamp));
    return out;
  }
  return { timestamp };
}

/**
 * `metadata.delta`: the desired-side timestamps of the delta's leaves (§6.5). A delta member that is
 * an object came from a desired object, so its metadata is found by walking the same keys.
 */
export function deltaMetadata(delta: JsonObject, desiredMetadata: JsonValue | undefined): JsonObject {
  const meta = isObject(desiredMetadata) ? desiredMetadata : undefined;
  const out: JsonObject = {};
  for (const k of Object.keys(delta)) {
    const value = delta[k];
    const m = getOwn(meta, k);
    if (isObject(value)) setOwn(out, k, deltaMetadata(value, m));
    else if (m !== undefined) setOwn(out, k, m);
  }
  return out;
}
