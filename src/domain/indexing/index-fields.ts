import type { IndexCondition, IndexPredicate, IndexTarget, LikePart, SqlBound } from '../../store/fleet-index-query.js';
import { numericValue } from '../../text-number.js';
import { hasLeadingWildcard, matches, type Bound, type QueryNode, type QueryValue } from './query-ast.js';
import { indexedShadowNames, type ThingIndexingConfiguration } from './indexing-config.js';
import { invalidQuery } from './query-parser.js';

/**
 * A parsed query checked against one index and resolved to what the store compiles
 * (fleet-indexing.md §6.2, §6.5–6.6): field names (case-sensitive) to targets, values lowercased
 * (values match case-insensitively), AWS's limits. Fields of a source the configuration does not
 * index resolve to "nothing" (§11 #8); an unknown field is AWS's InvalidQueryException.
 */

export interface QueryLimits {
  maxTerms: number;
  /** Longest query allowed when it holds a leading wildcard. */
  maxLengthWithLeadingWildcard: number;
  maxQueryLength: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxTerms: 12, maxLengthWithLeadingWildcard: 100, maxQueryLength: 2048 };

export type IndexName = 'AWS_Things' | 'AWS_ThingGroups';

/** The query's clause count, leading wildcards and length against AWS's limits (§6.5). */
export function checkLimits(query: string, node: QueryNode, limits: QueryLimits): void {
  const clauses = matches(node);
  if (clauses.length > limits.maxTerms) throw invalidQuery(query, `too many terms (${clauses.length}, at most ${limits.maxTerms})`);
  const leading = clauses.filter((c) => hasLeadingWildcard(c.value));
  if (leading.length > 1) throw invalidQuery(query, `only one term may start with a wildcard (the second at position ${leading[1].pos})`);
  if (leading.length === 1 && query.length > limits.maxLengthWithLeadingWildcard) {
    throw invalidQuery(query, `a query with a leading wildcard may be at most ${limits.maxLengthWithLeadingWildcard} characters`);
  }
}

/** AWS_Things: the predicate over things, for this configuration. */
export function resolveThingQuery(query: string, node: QueryNode, config: ThingIndexingConfiguration): IndexPredicate {
  return resolve(node, (m) => leaf(query, m, thingTarget(query, m.field, config)));
}

/** AWS_ThingGroups: the predicate over thing groups. */
export function resolveGroupQuery(query: string, node: QueryNode): IndexPredicate {
  return resolve(node, (m) => leaf(query, m, groupTarget(query, m.field)));
}

function resolve(node: QueryNode, onMatch: (m: Extract<QueryNode, { kind: 'match' }>) => IndexPredicate): IndexPredicate {
  switch (node.kind) {
    case 'all': return { kind: 'all' };
    case 'match': return onMatch(node);
    case 'not': return { kind: 'not', item: resolve(node.item, onMatch) };
    default: return { kind: node.kind, items: node.items.map((i) => resolve(i, onMatch)) };
  }
}

function leaf(query: string, m: Extract<QueryNode, { kind: 'match' }>, target: IndexTarget): IndexPredicate {
  if (m.value.type === 'range' && m.field !== undefined && /^shadow\.name\.\$package\.reported\.[^.]+\.version$/.test(m.field)) {
    throw invalidQuery(query, `ranges and comparisons are not supported on package versions (field ${m.field} at position ${m.pos})`);
  }
  if (m.value.type === 'range' && m.field === undefined) throw invalidQuery(query, `a range needs a field at position ${m.pos}`);
  return { kind: 'leaf', target, cond: condition(m.value) };
}

function condition(v: QueryValue): IndexCondition {
  switch (v.type) {
    case 'exists':
      return { type: 'exists' };
    case 'phrase':
      return { type: 'phrase', text: v.text.toLowerCase().trim().split(/\s+/).join(' ') };
    case 'term': {
      if (v.pattern) return { type: 'like', pattern: v.pattern.map((p): LikePart => (typeof p === 'string' ? p.toLowerCase() : p)) };
      const num = numericValue(v.text);
      return { type: 'equals', text: v.text.toLowerCase(), ...(num !== null ? { num } : {}) };
    }
    case 'range':
      return { type: 'range', ...(v.lo ? { lo: bound(v.lo) } : {}), ...(v.hi ? { hi: bound(v.hi) } : {}), loInclusive: v.loInclusive, hiInclusive: v.hiInclusive };
  }
}

function bound(b: Bound): SqlBound {
  const num = b.quoted ? null : numericValue(b.text);
  return { text: b.text.toLowerCase(), ...(num !== null ? { num } : {}) };
}

function unknownField(query: string, field: string): never {
  throw invalidQuery(query, `invalid field name, field name: ${field}`);
}

const NOTHING: IndexTarget = { kind: 'nothing' };
const SHADOW_SECTION = /^(reported|desired|delta|metadata)\.(.+)$/;

function thingTarget(query: string, field: string | undefined, c: ThingIndexingConfiguration): IndexTarget {
  const shadowNames = indexedShadowNames(c);
  if (field === undefined) return { kind: 'anyThingField', shadowNames };
  switch (field) {
    case 'thingName': return { kind: 'thingColumn', column: 'thing_name' };
    case 'thingId': return { kind: 'thingColumn', column: 'thing_id' };
    case 'thingTypeName':
    case 'registry.thingTypeName': return { kind: 'thingColumn', column: 'thing_type_name' };
    case 'thingGroupNames':
    case 'registry.thingGroupNames': return { kind: 'thingGroups' };
    case 'registry.version': return { kind: 'thingVersion' };
    case 'connectivity.connected': return c.thingConnectivityIndexingMode === 'STATUS' ? { kind: 'connectivity', column: 'connected' } : NOTHING;
    case 'connectivity.timestamp': return c.thingConnectivityIndexingMode === 'STATUS' ? { kind: 'connectivity', column: 'timestamp' } : NOTHING;
    case 'connectivity.disconnectReason': return c.thingConnectivityIndexingMode === 'STATUS' ? { kind: 'connectivity', column: 'disconnect_reason' } : NOTHING;
    case 'shadow.hasDelta': return shadowNames.includes('') ? { kind: 'shadow', field, shadowNames: [''] } : NOTHING;
    default:
  }
  if (field.startsWith('attributes.') && field.length > 'attributes.'.length && !field.includes('*')) return { kind: 'attribute', name: field.slice('attributes.'.length) };
  if (field.startsWith('deviceDefender.')) return NOTHING;
  if (field.startsWith('shadow.name.')) {
    const rest = field.slice('shadow.name.'.length);
    const dot = rest.indexOf('.');
    const name = dot < 0 ? '' : rest.slice(0, dot);
    const inner = dot < 0 ? '' : rest.slice(dot + 1);
    if (name === '' || !(inner === 'hasDelta' || SHADOW_SECTION.test(inner))) unknownField(query, field);
    const named = shadowNames.filter((n) => n !== '');
    const allowed = name === '*' ? named : named.includes(name) ? [name] : [];
    return allowed.length === 0 ? NOTHING : { kind: 'shadow', field, shadowNames: allowed };
  }
  if (field.startsWith('shadow.')) {
    const inner = field.slice('shadow.'.length);
    if (!SHADOW_SECTION.test(inner)) unknownField(query, field);
    return shadowNames.includes('') ? { kind: 'shadow', field, shadowNames: [''] } : NOTHING;
  }
  return unknownField(query, field);
}

function groupTarget(query: string, field: string | undefined): IndexTarget {
  if (field === undefined) return { kind: 'anyGroupField' };
  switch (field) {
    case 'thingGroupName':
    case 'thingGroupNames': return { kind: 'groupColumn', column: 'group_name' };
    case 'thingGroupId': return { kind: 'groupColumn', column: 'group_id' };
    case 'description': return { kind: 'groupColumn', column: 'description' };
    case 'parentGroupNames': return { kind: 'parentGroups' };
    default:
  }
  if (field.startsWith('attributes.') && field.length > 'attributes.'.length && !field.includes('*')) return { kind: 'groupAttribute', name: field.slice('attributes.'.length) };
  return unknownField(query, field);
}
