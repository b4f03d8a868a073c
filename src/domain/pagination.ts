import { DomainError, type AwsErrorName } from './errors.js';
import { FieldErrors } from './validation.js';

/**
 * Opaque nextToken: base64url JSON of the last item's sort key, tagged with the listing it belongs
 * to, so a token from one list cannot be replayed on another.
 */
export function encodeToken(list: string, key: unknown): string {
  return Buffer.from(JSON.stringify({ l: list, k: key }), 'utf8').toString('base64url');
}

/**
 * Tokens come back from clients, so a cursor is trusted only if every number in it is a safe
 * integer (all our sort keys are) and no string holds NUL — either would reach SQL as a bad value.
 */
function isPlausibleCursor(k: unknown): boolean {
  if (typeof k === 'number') return Number.isSafeInteger(k);
  if (typeof k === 'string') return !k.includes('\u0000');
  if (Array.isArray(k)) return k.every(isPlausibleCursor);
  if (k !== null && typeof k === 'object') return Object.values(k).every(isPlausibleCursor);
  return typeof k === 'boolean' || k === null;
}

export function decodeToken<T>(list: string, token: string | undefined, errorName: AwsErrorName, check: (k: unknown) => k is T): T | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { l?: unknown; k?: unknown };
    if (parsed && parsed.l === list && isPlausibleCursor(parsed.k) && check(parsed.k)) return parsed.k;
  } catch {
    // fall through
  }
  throw new DomainError(errorName, 'Next token is invalid.');
}

export const isString = (k: unknown): k is string => typeof k === 'string';

/** maxResults: integer in [1, max], default `fallback`. */
export function pageSize(errors: FieldErrors, value: unknown, max: number, fallback = 50): number {
  if (value === undefined) return fallback;
  return errors.number(value, 'maxResults', { integer: true, min: 1, max }) ?? fallback;
}

/** Fetches limit+1 rows to learn whether another page exists. */
export function page<R, K>(rows: R[], limit: number, list: string, keyOf: (r: R) => K): { items: R[]; nextToken?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodeToken(list, keyOf(items[items.length - 1])) };
}
