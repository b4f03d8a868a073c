import type { RouteResult } from './route.js';

/** Control plane (restJson1 default): a Date becomes epoch seconds, fraction allowed. */
export function controlPlaneJson(value: unknown): RouteResult {
  return { rawBody: JSON.stringify(value ?? {}, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  }) };
}

/** Device planes (iot-jobs-data, MQTT): a Date becomes whole epoch seconds. */
export function devicePlaneJson(value: unknown): RouteResult {
  return { rawBody: JSON.stringify(value ?? {}, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? Math.floor(raw.getTime() / 1000) : v;
  }) };
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
