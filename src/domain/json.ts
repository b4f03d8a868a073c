/** Small JSON helpers shared by every feature: stored JSON columns and keys from untrusted JSON. */

/** A nullable JSON text column read back: SQL NULL is `undefined`. */
export const parseJson = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

/**
 * `out[key] = value` for keys that come from request JSON: a plain assignment to `__proto__`
 * would be swallowed by the prototype setter, silently dropping a key the pattern allows.
 */
export function setOwn<T>(out: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}
