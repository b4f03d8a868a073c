import { cloneJson, deleteOwn, getOwn, isEmptyObject, isObject, setOwn, type JsonObject } from './json-value.js';
import { metadataOf } from './metadata.js';

export const SECTIONS = ['desired', 'reported'] as const;
export type Section = (typeof SECTIONS)[number];

/** The stored part of a shadow: only `desired` and `reported` are kept (§6.2). */
export interface ShadowState {
  desired?: JsonObject;
  reported?: JsonObject;
}

/** A shadow as stored: its state and, except for `$package`, the per-leaf metadata mirroring it. */
export interface ShadowContent {
  state: ShadowState;
  metadata?: ShadowState;
}

/** A validated request `state`: null clears both sections; a null section deletes that section. */
export type StateUpdate = null | { desired?: JsonObject | null; reported?: JsonObject | null };

/**
 * Applies an update's `state` to a shadow (things-and-shadows.md §6.2, §6.3) and returns the new
 * content; the input is not modified. `timestamp` stamps every leaf the update writes; with
 * `withMetadata` false (the `$package` shadow) no metadata is kept at all.
 */
export function mergeShadow(current: ShadowContent, update: StateUpdate, timestamp: number, withMetadata: boolean): ShadowContent {
  const state: ShadowState = {};
  const metadata: ShadowState = {};
  if (update !== null) {
    for (const section of SECTIONS) {
      const stored = current.state[section];
      if (stored !== undefined) state[section] = cloneJson(stored);
      const storedMeta = current.metadata?.[section];
      if (withMetadata && stored !== undefined) metadata[section] = isObject(storedMeta) ? cloneJson(storedMeta) : {};
    }
    for (const section of SECTIONS) {
      if (!Object.hasOwn(update, section)) continue;
      const patch = update[section];
      if (patch === null || patch === undefined) {
        delete state[section];
        delete metadata[section];
        continue;
      }
      const target = state[section] ?? {};
      const meta = withMetadata ? (metadata[section] ?? {}) : undefined;
      mergeObject(target, meta, patch, timestamp);
      // A section left empty disappears from the document.
      if (isEmptyObject(target)) {
        delete state[section];
        delete metadata[section];
      } else {
        state[section] = target;
        if (meta) metadata[section] = meta;
      }
    }
  }
  return withMetadata ? { state, metadata } : { state };
}

/** Recursive merge of `patch` into `target` (and its mirror `meta`), in place. */
export function mergeObject(target: JsonObject, meta: JsonObject | undefined, patch: JsonObject, timestamp: number): void {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      deleteOwn(target, key);
      if (meta) deleteOwn(meta, key);
      continue;
    }
    const existing = getOwn(target, key);
    if (isObject(value) && isObject(existing)) {
      let childMeta: JsonObject | undefined;
      if (meta) {
        const m = getOwn(meta, key);
        childMeta = isObject(m) ? m : {};
        setOwn(meta, key, childMeta);
      }
      mergeObject(existing, childMeta, value, timestamp);
      continue;
    }
    const replacement = isObject(value) ? withoutNulls(value) : cloneJson(value);
    // A new object made only of nulls adds nothing (and, having nothing to delete, changes nothing).
    if (replacement === undefined) continue;
    setOwn(target, key, replacement);
    if (meta) setOwn(meta, key, metadataOf(replacement, timestamp));
  }
}

/** A copy of a new object with its null members dropped; undefined when nulls were all it had. */
function withoutNulls(obj: JsonObject): JsonObject | undefined {
  const out: JsonObject = {};
  let sawNull = false;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === null) {
      sawNull = true;
    } else if (isObject(value)) {
      const child = withoutNulls(value);
      if (child === undefined) sawNull = true;
      else setOwn(out, key, child);
    } else {
      setOwn(out, key, cloneJson(value));
    }
  }
  return sawNull && isEmptyObject(out) ? undefined : out;
}
