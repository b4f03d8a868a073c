import type { IndexCondition, IndexPredicate, IndexTarget, LikePart } from '../../store/fleet-index-query.js';
import type { ThingDocumentRow } from '../../store/dynamic-thing-groups.js';
import { numericValue } from '../../text-number.js';

/**
 * One thing's index document as a dynamic group's membership check reads it: what the fleet
 * index's SQL (store/fleet-index-query.ts) reads of one thing, loaded once for all the groups a
 * change concerns. Values are as the index stores them (lowercased, numbers beside the text).
 */
export interface ThingDocument {
  thingName: string;
  thingId: string;
  thingTypeName: string | null;
  version: number;
  attributes: Record<string, string>;
  /** Static thing groups the thing is directly in (dynamic ones never feed a query, decision 0046). */
  staticGroups: string[];
  billingGroup: string | null;
  /** Index rows of the shadows the predicates read ('' is the classic shadow). */
  terms: { shadow_name: string; field: string; word: string; full_value: string; num: number | null }[];
  connectivity?: { connected: boolean; timestamp: number; disconnectReason: string | null };
}

/** The document of a loaded registry row and the index rows of its shadows. */
export function thingDocument(row: ThingDocumentRow, terms: ThingDocument['terms']): ThingDocument {
  return {
    thingName: row.thing_name,
    thingId: row.thing_id,
    thingTypeName: row.thing_type_name,
    version: row.version,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    // Dynamic memberships come marked with '*' and never feed a query.
    staticGroups: row.groups.filter((g) => !g.endsWith('*')),
    billingGroup: row.billing_group_name,
    terms,
    ...(row.connectivity ? { connectivity: row.connectivity } : {}),
  };
}

/** The SQL's value columns of one value: its whole text, one word of it, its number. */
interface Value {
  full: string;
  word: string;
  num: number | null;
}

/** Not decidable here: the caller asks the database (string ranges follow the database's collation). */
const UNDECIDED = Symbol('undecided');
type Truth = boolean | typeof UNDECIDED;

/**
 * Whether the document matches the predicate, with exactly the fleet index SQL's semantics; or
 * undefined where only the database can say (a string range: PostgreSQL compares text by its
 * collation), and the caller evaluates that predicate in SQL instead. Kept beside the compiler on
 * purpose: test/unit/document-match.test.ts checks the two agree query by query.
 */
export function matchesDocument(p: IndexPredicate, doc: ThingDocument): boolean | undefined {
  const r = evaluate(p, doc);
  return r === UNDECIDED ? undefined : r;
}

function evaluate(p: IndexPredicate, doc: ThingDocument): Truth {
  switch (p.kind) {
    case 'all':
      return true;
    case 'leaf':
      return leaf(p.target, p.cond, doc);
    case 'not': {
      const r = evaluate(p.item, doc);
      return r === UNDECIDED ? r : !r;
    }
    default: {
      let undecided = false;
      for (const item of p.items) {
        const r = evaluate(item, doc);
        if (r === UNDECIDED) undecided = true;
        else if (p.kind === 'and' && !r) return false;
        else if (p.kind === 'or' && r) return true;
      }
      return undecided ? UNDECIDED : p.kind === 'and';
    }
  }
}

const text = (s: string): Value => ({ full: s, word: s, num: null });

/** Some value satisfies the condition (an SQL `exists`): undecided only when none is true and one is undecided. */
function any(values: Value[], cond: IndexCondition, withNumbers: boolean): Truth {
  let undecided = false;
  for (const v of values) {
    const r = valueMatches(cond, v, withNumbers);
    if (r === true) return true;
    if (r === UNDECIDED) undecided = true;
  }
  return undecided ? UNDECIDED : false;
}

function leaf(target: IndexTarget, cond: IndexCondition, doc: ThingDocument): Truth {
  switch (target.kind) {
    case 'thingColumn': {
      const raw = target.column === 'thing_name' ? doc.thingName : target.column === 'thing_id' ? doc.thingId : doc.thingTypeName;
      if (raw === null) return false;
      return cond.type === 'exists' ? true : valueMatches(cond, text(raw.toLowerCase()), false);
    }
    case 'thingVersion':
      return cond.type === 'exists' ? true : valueMatches(cond, { full: String(doc.version), word: String(doc.version), num: doc.version }, true);
    case 'thingGroups': {
      if (cond.type === 'exists') return doc.billingGroup !== null || doc.staticGroups.length > 0;
      const names = [...doc.staticGroups, ...(doc.billingGroup !== null ? [doc.billingGroup] : [])];
      return any(names.map((n) => text(n.toLowerCase())), cond, false);
    }
    case 'attribute': {
      const v = doc.attributes[target.name];
      if (v === undefined) return false;
      return cond.type === 'exists' ? true : valueMatches(cond, attributeValue(v), true);
    }
    case 'shadow': {
      const rows = doc.terms.filter((x) => target.shadowNames.includes(x.shadow_name) && fieldMatches(target.field, x.field));
      if (cond.type === 'exists') return rows.length > 0;
      return any(rows.map((x) => ({ full: x.full_value, word: x.word, num: x.num })), cond, true);
    }
    case 'connectivity':
      return connectivity(target.column, cond, doc);
    case 'anyThingField': {
      const registry = [doc.thingName, doc.thingId, doc.thingTypeName].filter((v): v is string => v !== null).map((v) => text(v.toLowerCase()));
      const parts: Truth[] = [
        any(registry, cond, false),
        leaf({ kind: 'thingGroups' }, cond, doc),
        any(Object.values(doc.attributes).map(attributeValue), cond, true),
      ];
      if (target.shadowNames.length > 0) {
        parts.push(any(doc.terms.filter((x) => target.shadowNames.includes(x.shadow_name)).map((x) => ({ full: x.full_value, word: x.word, num: x.num })), cond, true));
      }
      if (parts.includes(true)) return true;
      return parts.includes(UNDECIDED) ? UNDECIDED : false;
    }
    default:
      return false;
  }
}

function attributeValue(v: string): Value {
  const lower = v.toLowerCase();
  return { full: lower, word: lower, num: numericValue(v) };
}

/** connectivity.* as the SQL reads it: a thing never seen connected reads connected:false. */
function connectivity(column: 'connected' | 'timestamp' | 'disconnect_reason', cond: IndexCondition, doc: ThingDocument): Truth {
  const c = doc.connectivity;
  if (column === 'connected') {
    if (cond.type === 'exists') return true;
    const isTrue = c?.connected === true;
    if (cond.type === 'equals' && cond.text === 'true') return isTrue;
    if (cond.type === 'equals' && cond.text === 'false') return !isTrue;
    return false;
  }
  if (!c) return false;
  if (column === 'timestamp') return cond.type === 'exists' ? true : valueMatches(cond, { full: String(c.timestamp), word: String(c.timestamp), num: c.timestamp }, true);
  if (c.disconnectReason === null || c.connected) return false;
  return cond.type === 'exists' ? true : valueMatches(cond, text(c.disconnectReason.toLowerCase()), false);
}

/** A field path with `*` segments (any run) against a stored field, as `like` on fieldPattern. */
function fieldMatches(pattern: string, field: string): boolean {
  if (!pattern.includes('*')) return pattern === field;
  return likeRegex(pattern.split('*').flatMap((s, i) => (i === 0 ? [s] : [{ wild: '*' as const }, s]))).test(field);
}

const regexCache = new Map<string, RegExp>();

function likeRegex(parts: LikePart[]): RegExp {
  const key = JSON.stringify(parts);
  let re = regexCache.get(key);
  if (!re) {
    const body = parts.map((p) => (typeof p === 'string' ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : p.wild === '*' ? '[\\s\\S]*' : '[\\s\\S]')).join('');
    re = new RegExp(`^${body}$`, 'u');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

/** valueSql of store/fleet-index-query.ts, on one value. `withNumbers`: the value has a number column. */
function valueMatches(cond: IndexCondition, v: Value, withNumbers: boolean): Truth {
  switch (cond.type) {
    case 'exists':
      return true;
    case 'equals':
      return v.word === cond.text || (cond.num !== undefined && withNumbers && v.num !== null && v.num === cond.num);
    case 'like':
      return likeRegex(cond.pattern).test(v.word);
    case 'phrase':
      return ` ${v.full} `.includes(` ${cond.text} `);
    case 'range': {
      const numeric = (cond.lo === undefined || cond.lo.num !== undefined) && (cond.hi === undefined || cond.hi.num !== undefined);
      if (!numeric) return UNDECIDED;
      if (!withNumbers || v.num === null) return false;
      const n = v.num;
      if (cond.lo && !(cond.loInclusive ? n >= cond.lo.num! : n > cond.lo.num!)) return false;
      if (cond.hi && !(cond.hiInclusive ? n <= cond.hi.num! : n < cond.hi.num!)) return false;
      return true;
    }
  }
}
