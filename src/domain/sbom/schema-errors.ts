import type { ErrorObject } from 'ajv';

/**
 * Turns JSON Schema (ajv) errors into one errorMessage that says what is wrong and where, as a
 * JSON pointer into the document (`/packages/3/primaryPackagePurpose`). A missing or stray
 * member is reported at the member's own pointer, which is where a user will look for it.
 */

/** How many problems one errorMessage lists; the rest are counted. */
export const MAX_LISTED_ERRORS = 5;
const MAX_LISTED_ENUM_VALUES = 16;
const MAX_VALUE_CHARS = 60;

export interface SchemaProblem {
  pointer: string;
  problem: string;
}

/** The parts of an ajv error we read; code checks build the same shape. */
export type SchemaError = Pick<ErrorObject, 'instancePath' | 'keyword' | 'params' | 'message'> & { data?: unknown };

function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/** Reads the value at a JSON pointer, for messages only. */
export function valueAt(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, token)) return undefined;
    cur = (cur as Record<string, unknown>)[token];
  }
  return cur;
}

export function describeSchemaError(error: SchemaError, doc?: unknown): SchemaProblem {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${at}/${escapeToken(String(params.missingProperty))}`, problem: 'required member is missing' };
    case 'additionalProperties':
      return { pointer: `${at}/${escapeToken(String(params.additionalProperty))}`, problem: 'member is not allowed here' };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[] | undefined) ?? [];
      const value = 'data' in error ? error.data : valueAt(doc, at);
      const shown = value === undefined ? 'value' : `value ${quote(value)}`;
      const list = allowed.length <= MAX_LISTED_ENUM_VALUES
        ? `one of ${allowed.map((v) => String(v)).join(', ')}`
        : `one of ${allowed.length} allowed values`;
      return { pointer: at, problem: `${shown} is not ${list}` };
    }
    case 'type':
      return { pointer: at, problem: `must be of type ${String(params.type)}` };
    case 'const': {
      const value = 'data' in error ? error.data : valueAt(doc, at);
      return { pointer: at, problem: `${value === undefined ? 'value' : `value ${quote(value)}`} must be ${quote(params.allowedValue)}` };
    }
    default:
      return { pointer: at, problem: error.message ?? `fails the "${error.keyword}" rule` };
  }
}

function where(pointer: string): string {
  return pointer === '' ? '/ (document root)' : pointer;
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

function within(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(`${parent}/`);
}

/**
 * A failed oneOf/anyOf reports every alternative's complaint plus "must match exactly one
 * schema". The alternative that got deepest into the document is the one the author meant, so
 * only its complaints are kept, and the summary line is dropped when something more precise remains.
 */
function simplifyAlternatives(problems: SchemaProblem[], keywords: string[]): SchemaProblem[] {
  let out = problems;
  for (let i = 0; i < keywords.length; i++) {
    if (keywords[i] !== 'oneOf' && keywords[i] !== 'anyOf') continue;
    const at = problems[i].pointer;
    const inner = out.filter((p) => p !== problems[i] && within(p.pointer, at));
    if (inner.length === 0) continue;
    const deepest = Math.max(...inner.map((p) => depth(p.pointer)));
    out = out.filter((p) => p !== problems[i] && (!within(p.pointer, at) || depth(p.pointer) === deepest));
  }
  return out;
}

/** "<what>: at /a/b: problem; at /c: problem (and 7 more errors)". Duplicates are dropped. */
export function formatSchemaErrors(what: string, errors: readonly SchemaError[], doc?: unknown): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  const problems = simplifyAlternatives(errors.map((e) => describeSchemaError(e, doc)), errors.map((e) => e.keyword));
  for (const { pointer, problem } of problems) {
    const line = `at ${where(pointer)}: ${problem}`;
    if (seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  const listed = lines.slice(0, MAX_LISTED_ERRORS).join('; ');
  const hidden = lines.length - MAX_LISTED_ERRORS;
  const more = hidden > 0 ? ` (and ${hidden} more ${hidden === 1 ? 'error' : 'errors'})` : '';
  return `${what}: ${listed}${more}`;
}
