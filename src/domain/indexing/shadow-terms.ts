import type { IndexTerm } from '../../store/fleet-index.js';
import { computeDelta } from '../shadows/delta.js';
import type { JsonObject, JsonValue } from '../shadows/json-value.js';
import type { ShadowContent } from '../shadows/merge.js';
import { numericValue } from '../../text-number.js';
import { PACKAGE_SHADOW_NAME } from './indexing-config.js';

/**
 * The index rows of one shadow (fleet-indexing.md §6.2–6.3): every simple value under `reported`,
 * `desired` and `delta`, the metadata timestamps of those, and `hasDelta`, each under its full
 * field path (`shadow.reported.a.b`, `shadow.name.{n}.reported.a.b`). A string gives one row per
 * word (Java whitespace; one that reads as a number also holds it), numbers and booleans one row; arrays of simple values give a row per
 * element and arrays holding objects nothing at all; null is not indexed. `$package` also gets a
 * synthesised `reported.totalCount` (the number of packages, §6.6) unless it has a real one.
 */
export function shadowTerms(shadowName: string, content: ShadowContent): IndexTerm[] {
  const prefix = shadowName === '' ? 'shadow.' : `shadow.name.${shadowName}.`;
  const out: IndexTerm[] = [];
  const { desired, reported } = content.state;
  const delta = computeDelta(desired, reported);
  if (reported) walk(out, `${prefix}reported`, reported);
  if (desired) walk(out, `${prefix}desired`, desired);
  if (delta) walk(out, `${prefix}delta`, delta);
  for (const section of ['desired', 'reported'] as const) {
    const meta = content.metadata?.[section];
    if (meta) walk(out, `${prefix}metadata.${section}`, meta);
  }
  const hasDelta = delta !== undefined && Object.keys(delta).length > 0;
  out.push(valueTerm(`${prefix}hasDelta`, hasDelta));
  if (shadowName === PACKAGE_SHADOW_NAME && reported && !Object.prototype.hasOwnProperty.call(reported, 'totalCount')) {
    const count = Object.values(reported).filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v)).length;
    out.push(valueTerm(`${prefix}reported.totalCount`, count));
  }
  return out;
}

function walk(out: IndexTerm[], path: string, value: JsonValue): void {
  if (value === null) return;
  if (Array.isArray(value)) {
    if (value.some((v) => v !== null && typeof v === 'object')) return;
    for (const v of value) if (v !== null) pushValue(out, path, v as string | number | boolean);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as JsonObject)) walk(out, `${path}.${k}`, v);
    return;
  }
  pushValue(out, path, value);
}

function pushValue(out: IndexTerm[], field: string, v: string | number | boolean): void {
  if (typeof v !== 'string') {
    out.push(valueTerm(field, v));
    return;
  }
  const full = v.toLowerCase();
  const words = full.split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) words.push('');
  // A string that reads as a number also compares as one, as registry attributes do (`$package`
  // attributes are strings, and AWS's own example compares `…attributes.packageID>1500`).
  const num = numericValue(v.trim());
  for (const word of new Set(words)) out.push({ field, word, full_value: full, num });
}

function valueTerm(field: string, v: number | boolean): IndexTerm {
  const text = String(v).toLowerCase();
  return { field, word: text, full_value: text, num: typeof v === 'number' && Number.isFinite(v) ? v : null };
}
