import { DomainError } from '../errors.js';

/**
 * IoT policy documents (device-security.md §5.2–5.3): parsed and checked as AWS checks them
 * (MalformedPolicyException), then kept in a compiled form the engine binds to a connection.
 */

export type Effect = 'Allow' | 'Deny';

/** Text with `${…}` policy variables: literal policy text and variable names, in order. */
export type Template = ({ text: string } | { variable: string })[];

export interface CompiledCondition {
  /** The operator without its qualifiers: `StringEquals`, `Bool`, … */
  operator: string;
  /** `ForAnyValue` / `ForAllValues`, when given. */
  set?: 'ForAnyValue' | 'ForAllValues';
  /** `…IfExists`: a missing key satisfies the condition. */
  ifExists: boolean;
  key: string;
  values: Template[];
}

export interface CompiledStatement {
  effect: Effect;
  /** Action patterns; `notActions` inverts them (NotAction). */
  actions: string[];
  notActions: boolean;
  resources: Template[];
  notResources: boolean;
  conditions: CompiledCondition[];
}

export interface CompiledPolicy {
  /** For logs and TestAuthorization-style answers. */
  name: string;
  statements: CompiledStatement[];
}

/** The longest document AWS takes, counted without whitespace. */
export const MAX_POLICY_CHARS = 2048;

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const ACTION = /^(\*|[a-zA-Z0-9*?-]+:[a-zA-Z0-9*?.-]+)$/;
const VARIABLE = /\$\{([^}]*)\}/g;

/** Condition operators IAM defines; the engine evaluates the string, boolean, null, numeric and ARN ones. */
export const CONDITION_OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
]);

export const malformed = (detail?: string) =>
  new DomainError('MalformedPolicyException', detail === undefined ? 'Policy document is Malformed: Invalid policy syntax.' : `Policy document is Malformed: ${detail}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits text at its `${…}` variables. An empty or unterminated `${` is malformed. */
export function parseTemplate(text: string): Template {
  const out: Template = [];
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    if (m[1] === '') throw malformed(`empty policy variable in ${JSON.stringify(text)}`);
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ variable: m[1] });
    last = m.index + m[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('${')) throw malformed(`unterminated policy variable in ${JSON.stringify(text)}`);
  if (rest !== '' || out.length === 0) out.push({ text: rest });
  return out;
}

function stringList(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x !== '')) {
    throw malformed(`${what} must be a non-empty string or a non-empty list of strings`);
  }
  return list as string[];
}

function conditions(value: unknown): CompiledCondition[] {
  if (value === undefined) return [];
  if (!isObject(value)) throw malformed('Condition must be an object');
  const out: CompiledCondition[] = [];
  for (const [rawOperator, block] of Object.entries(value)) {
    let operator = rawOperator;
    let set: CompiledCondition['set'];
    const qualified = /^(ForAnyValue|ForAllValues):(.+)$/.exec(operator);
    if (qualified) {
      set = qualified[1] as CompiledCondition['set'];
      operator = qualified[2];
    }
    const ifExists = operator.endsWith('IfExists') && operator !== 'IfExists';
    if (ifExists) operator = operator.slice(0, -'IfExists'.length);
    if (!CONDITION_OPERATORS.has(operator)) throw malformed(`unknown condition operator ${rawOperator}`);
    if (!isObject(block) || Object.keys(block).length === 0) throw malformed(`condition ${rawOperator} must map keys to values`);
    for (const [key, raw] of Object.entries(block)) {
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0 || !list.every((x) => typeof x === 'string' || typeof x === 'boolean' || typeof x === 'number')) {
        throw malformed(`condition ${rawOperator} on ${key} needs a string, boolean or number value, or a list of them`);
      }
      out.push({ operator, set, ifExists, key, values: list.map((x) => parseTemplate(String(x))) });
    }
  }
  return out;
}

function statement(value: unknown): CompiledStatement {
  if (!isObject(value)) throw malformed();
  for (const key of Object.keys(value)) if (!STATEMENT_KEYS.has(key)) throw malformed(`unknown statement element ${key}`);
  if (value.Effect !== 'Allow' && value.Effect !== 'Deny') throw malformed('Effect must be Allow or Deny');
  if (value.Sid !== undefined && typeof value.Sid !== 'string') throw malformed('Sid must be a string');
  if ((value.Action === undefined) === (value.NotAction === undefined)) throw malformed('a statement needs exactly one of Action and NotAction');
  if ((value.Resource === undefined) === (value.NotResource === undefined)) throw malformed('a statement needs exactly one of Resource and NotResource');
  const notActions = value.NotAction !== undefined;
  const actions = stringList(notActions ? value.NotAction : value.Action, notActions ? 'NotAction' : 'Action');
  for (const a of actions) if (!ACTION.test(a)) throw malformed(`invalid action ${JSON.stringify(a)}`);
  const notResources = value.NotResource !== undefined;
  const resources = stringList(notResources ? value.NotResource : value.Resource, notResources ? 'NotResource' : 'Resource').map(parseTemplate);
  return { effect: value.Effect, actions, notActions, resources, notResources, conditions: conditions(value.Condition) };
}

/** Checks a document as CreatePolicy / CreatePolicyVersion do and compiles it; MalformedPolicyException otherwise. */
export function compilePolicyDocument(name: string, document: string): CompiledPolicy {
  const size = document.replace(/\s/g, '').length;
  if (size === 0) throw malformed();
  if (size > MAX_POLICY_CHARS) throw malformed(`the document has ${size} characters without whitespace, more than ${MAX_POLICY_CHARS}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw malformed();
  }
  if (!isObject(parsed)) throw malformed();
  for (const key of Object.keys(parsed)) if (key !== 'Version' && key !== 'Statement' && key !== 'Id') throw malformed(`unknown policy element ${key}`);
  if (parsed.Version !== undefined && parsed.Version !== '2012-10-17' && parsed.Version !== '2008-10-17') throw malformed('Version must be 2012-10-17');
  const list = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement === undefined ? [] : [parsed.Statement];
  if (list.length === 0) throw malformed('the document has no Statement');
  return { name, statements: list.map(statement) };
}
