/**
 * A string's value as a number when it reads as one (`"70"`, `-1.5e3`), else null. Fleet indexing
 * compares such attribute values and query bounds numerically (fleet-indexing.md §6.3); the store
 * keeps the number beside the text (migration 0016) and the query resolver reads bounds the same way.
 */
export function numericValue(text: string): number | null {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
