import type { CompiledCondition, CompiledPolicy, CompiledStatement, Effect, Template } from './policy-document.js';
import { resolveVariable, type ConnectionFacts } from './policy-variables.js';
import { anyOf, anyPattern, globSource, patternMatcher, patternSource, type NameMatcher, type PatternPiece } from './wildcards.js';

/**
 * The policy engine (device-security.md §5.3): deny by default, any matching Deny wins over any
 * Allow. A set of policies is bound to one connection once (its variables substituted, its
 * conditions decided, every pattern compiled to one expression per statement), so each MQTT
 * packet is a few regular-expression tests and no database read.
 */
export type Decision = 'ALLOWED' | 'EXPLICIT_DENY' | 'IMPLICIT_DENY';

interface BoundStatement {
  effect: Effect;
  policy: string;
  action: RegExp;
  notActions: boolean;
  resource: NameMatcher;
  notResources: boolean;
}

export interface DecisionDetail {
  decision: Decision;
  /** The policy whose statement decided (Allow or Deny); absent for an implicit deny. */
  policy?: string;
}

export class BoundPolicies {
  private readonly byAction = new Map<string, BoundStatement[]>();

  constructor(private readonly statements: BoundStatement[]) {}

  /** The decision for `action` (e.g. `iot:Publish`) on the resource ARN. */
  decide(action: string, resource: string): Decision {
    return this.explain(action, resource).decision;
  }

  explain(action: string, resource: string): DecisionDetail {
    let allowedBy: string | undefined;
    for (const s of this.forAction(action)) {
      if (s.resource.test(resource) === s.notResources) continue;
      if (s.effect === 'Deny') return { decision: 'EXPLICIT_DENY', policy: s.policy };
      allowedBy ??= s.policy;
    }
    return allowedBy !== undefined ? { decision: 'ALLOWED', policy: allowedBy } : { decision: 'IMPLICIT_DENY' };
  }

  private forAction(action: string): BoundStatement[] {
    let list = this.byAction.get(action);
    if (!list) {
      list = this.statements.filter((s) => s.action.test(action) !== s.notActions);
      // Only the few actions the door asks about are kept.
      if (this.byAction.size < 32) this.byAction.set(action, list);
    }
    return list;
  }
}

/** The policies bound to one connection's facts. */
export function bindPolicies(policies: CompiledPolicy[], facts: ConnectionFacts): BoundPolicies {
  const bound: BoundStatement[] = [];
  for (const policy of policies) {
    for (const statement of policy.statements) {
      const b = bindStatement(policy.name, statement, facts);
      if (b) bound.push(b);
    }
  }
  return new BoundPolicies(bound);
}

/** The statement on this connection, or undefined when it does not apply (an unresolvable variable, a false condition). */
function bindStatement(policy: string, s: CompiledStatement, facts: ConnectionFacts): BoundStatement | undefined {
  const resources: NameMatcher[] = [];
  for (const t of s.resources) {
    const pieces = substitute(t, facts);
    if (!pieces) return undefined;
    resources.push(patternMatcher(pieces));
  }
  for (const c of s.conditions) {
    const holds = conditionHolds(c, facts);
    // An operator the engine cannot evaluate fails closed: it grants nothing and still denies.
    if (holds === 'unsupported' ? s.effect === 'Allow' : !holds) return undefined;
  }
  return {
    effect: s.effect,
    policy,
    action: actionMatcher(s),
    notActions: s.notActions,
    resource: anyPattern(resources),
    notResources: s.notResources,
  };
}

/** A statement's actions hold no variables: their expression is compiled once and shared by every connection. */
const actionMatchers = new WeakMap<CompiledStatement, RegExp>();
function actionMatcher(s: CompiledStatement): RegExp {
  let r = actionMatchers.get(s);
  if (!r) {
    r = anyOf(s.actions.map(globSource), true);
    actionMatchers.set(s, r);
  }
  return r;
}

/** A template's pieces with its variables' values (literal), or undefined when one cannot be resolved. */
function substitute(t: Template, facts: ConnectionFacts): PatternPiece[] | undefined {
  const out: PatternPiece[] = [];
  for (const part of t) {
    if ('text' in part) {
      out.push({ glob: part.text });
      continue;
    }
    const value = resolveVariable(part.variable, facts);
    if (value === undefined) return undefined;
    out.push({ literal: value });
  }
  return out;
}

/** A template as plain text (condition values): its variables' values, undefined when one cannot be resolved. */
function substituteText(t: Template, facts: ConnectionFacts): { text: string; pattern: string } | undefined {
  const pieces = substitute(t, facts);
  if (!pieces) return undefined;
  return { text: pieces.map((p) => ('literal' in p ? p.literal : p.glob)).join(''), pattern: patternSource(pieces) };
}

const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'ArnNotEquals', 'ArnNotLike']);

function conditionHolds(c: CompiledCondition, facts: ConnectionFacts): boolean | 'unsupported' {
  const actual = resolveVariable(c.key, facts);
  if (c.operator === 'Null') return c.values.some((v) => substituteText(v, facts)?.text.toLowerCase() === String(actual === undefined));
  if (actual === undefined) return c.ifExists || c.set === 'ForAllValues' || NEGATED.has(c.operator);
  const values = c.values.map((v) => substituteText(v, facts));
  if (values.some((v) => v === undefined)) return false;
  const expected = values as { text: string; pattern: string }[];
  const num = (s: string) => (s.trim() === '' ? NaN : Number(s));
  switch (c.operator) {
    case 'StringEquals':
    case 'ArnEquals':
      return expected.some((v) => v.text === actual);
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return !expected.some((v) => v.text === actual);
    case 'StringEqualsIgnoreCase':
      return expected.some((v) => v.text.toLowerCase() === actual.toLowerCase());
    case 'StringNotEqualsIgnoreCase':
      return !expected.some((v) => v.text.toLowerCase() === actual.toLowerCase());
    case 'StringLike':
    case 'ArnLike':
      return anyOf(expected.map((v) => v.pattern)).test(actual);
    case 'StringNotLike':
    case 'ArnNotLike':
      return !anyOf(expected.map((v) => v.pattern)).test(actual);
    case 'Bool':
      return expected.some((v) => v.text.toLowerCase() === actual.toLowerCase());
    case 'NumericEquals':
      return expected.some((v) => num(v.text) === num(actual));
    case 'NumericNotEquals':
      return !expected.some((v) => num(v.text) === num(actual));
    case 'NumericLessThan':
      return expected.some((v) => num(actual) < num(v.text));
    case 'NumericLessThanEquals':
      return expected.some((v) => num(actual) <= num(v.text));
    case 'NumericGreaterThan':
      return expected.some((v) => num(actual) > num(v.text));
    case 'NumericGreaterThanEquals':
      return expected.some((v) => num(actual) >= num(v.text));
    default:
      return 'unsupported';
  }
}
