import { FieldErrors, setOwn } from '../validation.js';

export const MAX_TAGS_PER_RESOURCE = 50;
const TAG_KEY = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const TAG_KEY_TEXT = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';

function checkPair(errors: FieldErrors, key: unknown, value: unknown, keyPath: string, valuePath: string): boolean {
  const before = errors.messages.length;
  const k = errors.string(key, keyPath, { required: true, min: 1, max: 128, pattern: TAG_KEY, patternText: TAG_KEY_TEXT });
  errors.string(value, valuePath, { required: true, max: 256 });
  if (k !== undefined && k.toLowerCase().startsWith('aws:')) errors.add(k, keyPath, 'Member must not start with the reserved prefix aws:');
  return errors.messages.length === before;
}

/** The package catalog's TagMap: an object of 1–50 entries. */
export function checkTagMap(errors: FieldErrors, value: unknown, path = 'tags'): Record<string, string> | undefined {
  const obj = errors.object(value, path);
  if (!obj) return undefined;
  const entries = Object.entries(obj);
  if (entries.length < 1) errors.add(obj, path, 'Member must have length greater than or equal to 1');
  if (entries.length > MAX_TAGS_PER_RESOURCE) errors.add(obj, path, `Member must have length less than or equal to ${MAX_TAGS_PER_RESOURCE}`);
  const out: Record<string, string> = {};
  let ok = entries.length >= 1 && entries.length <= MAX_TAGS_PER_RESOURCE;
  for (const [k, v] of entries) {
    if (checkPair(errors, k, v, `${path}.key`, `${path}.${k}.member`)) setOwn(out, k, v as string);
    else ok = false;
  }
  return ok ? out : undefined;
}

/**
 * The classic IoT TagList: [{Key, Value}], up to 50. TagResource passes `maxEntries: Infinity`:
 * its TagList has no modelled length, and going over the per-resource quota is a
 * LimitExceededException there, counted against the tags the resource already has.
 */
export function checkTagList(errors: FieldErrors, value: unknown, path = 'tags', required = false, maxEntries = MAX_TAGS_PER_RESOURCE): Record<string, string> | undefined {
  const list = errors.array(value, path, { required, max: Number.isFinite(maxEntries) ? maxEntries : undefined });
  if (!list) return undefined;
  const out: Record<string, string> = {};
  let ok = true;
  list.forEach((item, i) => {
    const obj = errors.object(item, `${path}.${i + 1}.member`, true);
    if (!obj) {
      ok = false;
      return;
    }
    const value = obj.Value ?? '';
    if (checkPair(errors, obj.Key, value, `${path}.${i + 1}.member.Key`, `${path}.${i + 1}.member.Value`)) setOwn(out, obj.Key as string, value as string);
    else ok = false;
  });
  return ok ? out : undefined;
}
