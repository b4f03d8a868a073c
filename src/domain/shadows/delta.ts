import { getOwn, isEmptyObject, isObject, jsonEqual, setOwn, type JsonObject } from './json-value.js';

/**
 * The delta of a shadow (things-and-shadows.md §6.7): what `desired` asks for that `reported` does
 * not show yet, walked over desired's keys only. Nested differences keep their parent keys; arrays
 * compare as whole values; numbers by value. Undefined when there is nothing to report.
 */
export function computeDelta(desired: JsonObject | undefined, reported: JsonObject | undefined): JsonObject | undefined {
  if (desired === undefined) return undefined;
  const delta = reported === undefined ? { ...desired } : diffObject(desired, reported);
  return isEmptyObject(delta) ? undefined : delta;
}

function diffObject(desired: JsonObject, reported: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(desired)) {
    const want = desired[k];
    const have = getOwn(reported, k);
    if (have === undefined) {
      setOwn(out, k, want);
    } else if (isObject(want) && isObject(have)) {
      const sub = diffObject(want, have);
      if (!isEmptyObject(sub)) setOwn(out, k, sub);
    } else if (!jsonEqual(want, have)) {
      setOwn(out, k, want);
    }
  }
  return out;
}
