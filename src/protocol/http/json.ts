import { setOwn } from '../../domain/json.js';
import type { RouteResult } from './route.js';

/**
 * Replaces every Date in a plain JSON-able value by `toNumber(date)`. A walk plus a plain
 * JSON.stringify is several times cheaper than a stringify replacer function on every request.
 * Copy on write: only the objects and arrays on a path to a Date are copied; the rest (a job
 * document, statusDetails) goes to JSON.stringify as it is, which on the MQTT door's replies and
 * notifications was most of what this allocated.
 */
function datesToNumbers(value: unknown, toNumber: (d: Date) => number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return toNumber(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const w = datesToNumbers(v, toNumber);
      if (copy === undefined && w !== v) copy = value.slice(0, i);
      copy?.push(w);
    }
    return copy ?? value;
  }
  const object = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in object) {
    const v = object[key];
    const w = datesToNumbers(v, toNumber);
    if (out === undefined) {
      if (w === v) continue;
      out = {};
      for (const earlier in object) {
        if (earlier === key) break;
        put(out, earlier, object[earlier]);
      }
    }
    put(out, key, w);
  }
  return out ?? value;
}

function put(out: Record<string, unknown>, key: string, v: unknown): void {
  // A user-chosen map key (attributes, tags) may be `__proto__`; assignment would drop it.
  if (key === '__proto__') setOwn(out, key, v);
  else out[key] = v;
}

const epochSeconds = (d: Date) => d.getTime() / 1000;
const wholeEpochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Control plane (restJson1 default): a Date becomes epoch seconds, fraction allowed. */
export function controlPlaneJson(value: unknown): RouteResult {
  return { rawBody: JSON.stringify(datesToNumbers(value ?? {}, epochSeconds)) };
}

/** Device planes (iot-jobs-data, MQTT): a Date becomes whole epoch seconds. */
export function devicePlaneJson(value: unknown): RouteResult {
  return { rawBody: devicePlaneText(value) };
}

/** The device planes' JSON text (MQTT payloads use it as they are). */
export function devicePlaneText(value: unknown): string {
  return JSON.stringify(datesToNumbers(value ?? {}, wholeEpochSeconds));
}

/** Query values stay strings unless they look like what the member expects, so validators can report bad input. */
export function queryInt(query: URLSearchParams, name: string): unknown {
  const v = query.get(name);
  if (v === null) return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

export function queryBool(query: URLSearchParams, name: string): unknown {
  const v = query.get(name);
  if (v === null) return undefined;
  return v === 'true' ? true : v === 'false' ? false : v;
}

export function queryString(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}
