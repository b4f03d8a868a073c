import type { FuncKeywordDefinition } from 'ajv';

/**
 * JSON Schema `uniqueItems` in linear time. ajv's built-in compares every pair of items
 * (fast-deep-equal), which is quadratic: hours for a BOM with 100,000 components. Here each item
 * gets a canonical text — object members sorted, so member order does not matter, and numbers
 * as JSON writes them, so 1 and 1.0 are equal — and a Set finds the first repeat.
 */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const members = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
  return `{${members.join(',')}}`;
}

interface UniqueItemsError {
  keyword: string;
  message: string;
  params: { i: number; j: number };
}

function uniqueItems(this: unknown, schema: boolean, data: unknown[]): boolean {
  const self = uniqueItems as typeof uniqueItems & { errors?: UniqueItemsError[] | null };
  self.errors = null;
  if (!schema || data.length < 2) return true;
  const seen = new Map<string, number>();
  for (let j = 0; j < data.length; j++) {
    const item = data[j];
    // Strings and numbers need no canonical form beyond a type tag.
    const key = typeof item === 'string' ? `s${item}` : typeof item === 'number' ? `n${item}` : `o${canonical(item)}`;
    const i = seen.get(key);
    if (i !== undefined) {
      self.errors = [{ keyword: 'uniqueItems', message: `must NOT have duplicate items (items ## ${i} and ${j} are identical)`, params: { i, j } }];
      return false;
    }
    seen.set(key, j);
  }
  return true;
}

export const uniqueItemsKeyword: FuncKeywordDefinition = {
  keyword: 'uniqueItems',
  type: 'array',
  schemaType: 'boolean',
  errors: true,
  validate: uniqueItems,
};
