import { DomainError, type AwsErrorName } from './errors.js';
import { FieldErrors } from './validation.js';

/**
 * Opaque nextToken: base64url JSON of the last item's sort key, tagged with the listing it belongs
 * to, so a token from one list cannot be replayed on another.
 */
export function encodeToken(list: string, key: unknown): string {
  return Buffer.from(JSON.stringify({ l: list, k: key }), 'utf8').toString('base64url');
}

export function decodeToken<T>(list: string, token: string | undefined, errorName: AwsErrorName, check: (k: unknown) => k is T): T | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { l?: unknown; k?: unknown };
    if (parsed && parsed.l === list && check(parsed.k)) return parsed.k;
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
