import { DomainError, type AwsErrorName } from './errors.js';
import { setOwn } from './json.js';

/**
 * Collects field violations in the AWS service style:
 *   "2 validation errors detected: Value 'a b' at 'packageName' failed to satisfy constraint: ...; ..."
 * Inputs arrive from JSON, so every checker also verifies the JSON type. The error name differs per
 * API family (ValidationException for the package catalog, InvalidRequestException for jobs/things).
 */
export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  /** Full-match pattern (Smithy semantics) and its text for the message. */
  pattern?: RegExp;
  patternText?: string;
  enum?: readonly string[];
}

export interface NumberRule {
  required?: boolean;
  min?: number;
  max?: number;
  integer?: boolean;
}

export class FieldErrors {
  readonly messages: string[] = [];
  constructor(private readonly errorName: AwsErrorName = 'ValidationException') {}

  add(value: unknown, path: string, constraint: string): void {
    this.messages.push(`Value ${render(value)} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  /** A violation that is not about one member's value (cross-field rules). */
  addRaw(message: string): void {
    this.messages.push(message);
  }

  get any(): boolean {
    return this.messages.length > 0;
  }

  throwIfAny(): void {
    if (this.messages.length === 0) return;
    if (this.messages.length === 1 && !this.messages[0].startsWith('Value ')) {
      throw new DomainError(this.errorName, this.messages[0]);
    }
    const n = this.messages.length;
    // A 1 MiB body can hold tens of thousands of bad map keys; the count stays exact, the text is capped.
    const shown = n > MAX_MESSAGES_SHOWN ? [...this.messages.slice(0, MAX_MESSAGES_SHOWN), `and ${n - MAX_MESSAGES_SHOWN} more`] : this.messages;
    throw new DomainError(
      this.errorName,
      `${n} validation error${n === 1 ? '' : 's'} detected: ${shown.join('; ')}`,
    );
  }

  string(value: unknown, path: string, rule: StringRule = {}): string | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.add(null, path, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add(value, path, 'Member must be a string');
      return undefined;
    }
    const length = [...value].length;
    let ok = true;
    if (rule.min !== undefined && length < rule.min) {
      this.add(value, path, `Member must have length greater than or equal to ${rule.min}`);
      ok = false;
    }
    if (rule.max !== undefined && length > rule.max) {
      this.add(value, path, `Member must have length less than or equal to ${rule.max}`);
      ok = false;
    }
    if (rule.pattern && value.length > 0 && !rule.pattern.test(value)) {
      this.add(value, path, `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`);
      ok = false;
    }
    if (rule.enum && !rule.enum.includes(value)) {
      this.add(value, path, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`);
      ok = false;
    }
    // No member of these APIs can hold NUL, and PostgreSQL text cannot store it. Checked last, so a
    // member with a pattern answers with its pattern as AWS does.
    if (ok && value.includes('\u0000')) {
      this.add(value.replace(/\u0000/g, '\\u0000'), path, 'Member must not contain the NUL character');
      ok = false;
    }
    return ok ? value : undefined;
  }

  number(value: unknown, path: string, rule: NumberRule = {}): number | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.add(null, path, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.add(value, path, 'Member must be a number');
      return undefined;
    }
    // Beyond 2^53 a JSON number is no longer exact, and the database refuses it as a BIGINT.
    if (rule.integer && !Number.isSafeInteger(value)) {
      this.add(value, path, Number.isInteger(value) ? `Member must have value less than or equal to ${Number.MAX_SAFE_INTEGER}` : 'Member must be an integer');
      return undefined;
    }
    let ok = true;
    if (rule.min !== undefined && value < rule.min) {
      this.add(value, path, `Member must have value greater than or equal to ${rule.min}`);
      ok = false;
    }
    if (rule.max !== undefined && value > rule.max) {
      this.add(value, path, `Member must have value less than or equal to ${rule.max}`);
      ok = false;
    }
    return ok ? value : undefined;
  }

  boolean(value: unknown, path: string, required = false): boolean | undefined {
    if (value === undefined || value === null) {
      if (required) this.add(null, path, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'boolean') {
      this.add(value, path, 'Member must be a boolean');
      return undefined;
    }
    return value;
  }

  object(value: unknown, path: string, required = false): Record<string, unknown> | undefined {
    if (value === undefined || value === null) {
      if (required) this.add(null, path, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.add(value, path, 'Member must be a structure');
      return undefined;
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string, rule: { required?: boolean; min?: number; max?: number } = {}): unknown[] | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.add(null, path, 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.add(value, path, 'Member must be a list');
      return undefined;
    }
    let ok = true;
    if (rule.min !== undefined && value.length < rule.min) {
      this.add(value, path, `Member must have length greater than or equal to ${rule.min}`);
      ok = false;
    }
    if (rule.max !== undefined && value.length > rule.max) {
      this.add(value, path, `Member must have length less than or equal to ${rule.max}`);
      ok = false;
    }
    return ok ? value : undefined;
  }

  /** A map of string to string with per-key and per-value rules. */
  stringMap(
    value: unknown,
    path: string,
    rule: { required?: boolean; minEntries?: number; maxEntries?: number; key?: StringRule; value?: StringRule } = {},
  ): Record<string, string> | undefined {
    const obj = this.object(value, path, rule.required);
    if (!obj) return undefined;
    const entries = Object.entries(obj);
    let ok = true;
    if (rule.minEntries !== undefined && entries.length < rule.minEntries) {
      this.add(obj, path, `Member must have length greater than or equal to ${rule.minEntries}`);
      ok = false;
    }
    if (rule.maxEntries !== undefined && entries.length > rule.maxEntries) {
      this.add(obj, path, `Member must have length less than or equal to ${rule.maxEntries}`);
      ok = false;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of entries) {
      const before = this.messages.length;
      this.string(k, `${path}.key`, { ...rule.key });
      this.string(v, `${path}.${k}.member`, { required: true, ...rule.value });
      if (this.messages.length !== before) ok = false;
      else setOwn(out, k, v as string);
    }
    return ok ? out : undefined;
  }
}

/** Re-exported: the registry and tag rules import it from here. */
export { setOwn };

const MAX_MESSAGES_SHOWN = 25;
const MAX_RENDERED = 200;

function render(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  let text = typeof value === 'string' ? value : preview(value, MAX_RENDERED + 1);
  if (text.length > MAX_RENDERED) text = `${text.slice(0, MAX_RENDERED)}...`;
  return `'${text}'`;
}

/**
 * JSON text of an untrusted value, cut off after about `budget` characters. Unlike JSON.stringify
 * it never walks more than it prints, so a 100 000-deep array or a 1 MiB map in a request cannot
 * overflow the stack or cost more than the message shows.
 */
function preview(value: unknown, budget: number): string {
  let out = '';
  const walk = (v: unknown, depth: number): void => {
    if (out.length >= budget) return;
    if (v === null || typeof v !== 'object') {
      out += JSON.stringify(v) ?? 'null';
      return;
    }
    if (depth >= 32) {
      out += '...';
      return;
    }
    const isArray = Array.isArray(v);
    out += isArray ? '[' : '{';
    let first = true;
    for (const key in v as Record<string, unknown>) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      if (out.length >= budget) return;
      if (!first) out += ',';
      first = false;
      if (!isArray) out += `${JSON.stringify(key)}:`;
      walk((v as Record<string, unknown>)[key], depth + 1);
    }
    out += isArray ? ']' : '}';
  };
  walk(value, 0);
  return out;
}

/** `[^\p{C}]+`: no Unicode control characters, including newline and tab. */
export const NO_CONTROL_CHARS = /^[^\p{C}]+$/u;
export const NO_CONTROL_CHARS_TEXT = '[^\\p{C}]+';
