/**
 * The fleet-indexing query (fleet-indexing.md §6, query version 2017-09-30) as a tree: what
 * `query-parser.ts` reads from the text, what `index-fields.ts` checks against an index, and what
 * the store compiles to SQL (`store/fleet-index-query.ts`). Pure data, no I/O.
 */

/** A piece of a wildcard term: literal text, or `*` (any run) / `?` (one character). */
export type PatternPart = string | { wild: '*' | '?' };

/** A bound of a range or comparison: its text, and whether it was quoted (then always a string). */
export interface Bound {
  text: string;
  quoted: boolean;
}

export type QueryValue =
  /** A word; `pattern` holds its wildcards (absent when it has none). */
  | { type: 'term'; text: string; pattern?: PatternPart[] }
  /** `"a phrase"`: consecutive words. */
  | { type: 'phrase'; text: string }
  /** `field:*`: the field exists. */
  | { type: 'exists' }
  /** `[a TO b]`, `{a TO b}`, mixed; an absent bound (`*`) is open. */
  | { type: 'range'; lo?: Bound; hi?: Bound; loInclusive: boolean; hiInclusive: boolean };

export type QueryNode =
  /** `*` alone: every document. */
  | { kind: 'all' }
  | { kind: 'and'; items: QueryNode[] }
  | { kind: 'or'; items: QueryNode[] }
  | { kind: 'not'; item: QueryNode }
  /** One clause; `field` absent for a bare term (searched in every field). `pos`: where it starts. */
  | { kind: 'match'; field?: string; value: QueryValue; pos: number };

/** A comparison `field > v` is a half-open range. */
export function comparison(op: '>' | '>=' | '<' | '<=', bound: Bound): QueryValue {
  if (op === '>' || op === '>=') return { type: 'range', lo: bound, loInclusive: op === '>=', hiInclusive: true };
  return { type: 'range', hi: bound, loInclusive: true, hiInclusive: op === '<=' };
}

/** Every clause of the tree, in text order. */
export function matches(node: QueryNode): Extract<QueryNode, { kind: 'match' }>[] {
  switch (node.kind) {
    case 'all': return [];
    case 'match': return [node];
    case 'not': return matches(node.item);
    default: return node.items.flatMap(matches);
  }
}

/** Whether a term starts with a wildcard (`*my`, `?x`): AWS allows one per query (§6.5). */
export function hasLeadingWildcard(value: QueryValue): boolean {
  return value.type === 'term' && value.pattern !== undefined && typeof value.pattern[0] !== 'string';
}
