import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from './schema.js';

/**
 * A fleet-indexing query, resolved against an index (domain/indexing/index-fields.ts), compiled to
 * SQL that selects the matching documents' keys: thing names (AWS_Things) or group names
 * (AWS_ThingGroups). The same predicate serves SearchIndex (a page of keys), the aggregations and
 * "does this one thing match" (a dynamic group's membership check): `thingPredicateSql` is a
 * boolean over the row alias `t` of `things`.
 *
 * Every value lookup is an indexed subquery on the rows migration 0016 keeps: `thing_attributes`
 * (value_lower / value_num), `index_terms` (shadow values), `thing_connectivity`; the registry's own
 * columns are compared lowercased (values match case-insensitively, fleet-indexing.md §6.3).
 */

/** A wildcard pattern's pieces, already lowercased: literal text, or `*` / `?`. */
export type LikePart = string | { wild: '*' | '?' };

export interface SqlBound {
  /** Lowercased text (string comparison). */
  text: string;
  /** Set when the bound reads as a number: the comparison is numeric. */
  num?: number;
}

export type IndexCondition =
  /** A term: the lowercased word, and its number when it reads as one (10 matches 10.0). */
  | { type: 'equals'; text: string; num?: number }
  | { type: 'like'; pattern: LikePart[] }
  | { type: 'phrase'; text: string }
  | { type: 'exists' }
  | { type: 'range'; lo?: SqlBound; hi?: SqlBound; loInclusive: boolean; hiInclusive: boolean };

export type IndexTarget =
  /** A string column of `things`. */
  | { kind: 'thingColumn'; column: 'thing_name' | 'thing_id' | 'thing_type_name' }
  /** `registry.version` (numeric). */
  | { kind: 'thingVersion' }
  /** Static thing groups the thing is a direct member of, and its billing group. */
  | { kind: 'thingGroups' }
  | { kind: 'attribute'; name: string }
  /** A shadow value: its field path (`*` matches any run), in shadows of these names ('' = classic). */
  | { kind: 'shadow'; field: string; shadowNames: string[] }
  | { kind: 'connectivity'; column: 'connected' | 'timestamp' | 'disconnect_reason' }
  /** A bare term: thing name, id, type, group names, attribute values and indexed shadow words. */
  | { kind: 'anyThingField'; shadowNames: string[] }
  /** A field of a source that is not indexed: matches nothing (fleet-indexing.md §11 #8). */
  | { kind: 'nothing' }
  /** AWS_ThingGroups. */
  | { kind: 'groupColumn'; column: 'group_name' | 'group_id' | 'description' }
  | { kind: 'groupAttribute'; name: string }
  | { kind: 'parentGroups' }
  | { kind: 'anyGroupField' };

export type IndexPredicate =
  | { kind: 'all' }
  | { kind: 'and' | 'or'; items: IndexPredicate[] }
  | { kind: 'not'; item: IndexPredicate }
  | { kind: 'leaf'; target: IndexTarget; cond: IndexCondition };

const FALSE = sql<boolean>`1 = 0`;
const TRUE = sql<boolean>`1 = 1`;

/** `%`, `_` and `\` are literal in our LIKE patterns (escaped with `\`). */
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function likePattern(parts: LikePart[]): string {
  return parts.map((p) => (typeof p === 'string' ? escapeLike(p) : p.wild === '*' ? '%' : '_')).join('');
}

/** A field path with `*` segments as a LIKE pattern (escape `\\`). */
export function fieldPattern(field: string): string {
  return field.split('*').map(escapeLike).join('%');
}

interface ValueColumns {
  /** The whole value, lowercased. */
  full: RawBuilder<string>;
  /** One word of it (differs from `full` only for shadow strings). */
  word: RawBuilder<string>;
  /** The value as a number, when it is one. */
  num?: RawBuilder<number>;
}

/** The condition over one value's columns. `exists` is decided by the caller (a row exists). */
function valueSql(cond: IndexCondition, c: ValueColumns): RawBuilder<boolean> {
  switch (cond.type) {
    case 'exists':
      return TRUE;
    case 'equals':
      return cond.num !== undefined && c.num ? sql<boolean>`(${c.word} = ${cond.text} or ${c.num} = ${cond.num})` : sql<boolean>`${c.word} = ${cond.text}`;
    case 'like':
      return sql<boolean>`${c.word} like ${likePattern(cond.pattern)} escape '\\'`;
    case 'phrase':
      return sql<boolean>`(' ' || ${c.full} || ' ') like ${`% ${escapeLike(cond.text)} %`} escape '\\'`;
    case 'range': {
      const numeric = (cond.lo === undefined || cond.lo.num !== undefined) && (cond.hi === undefined || cond.hi.num !== undefined);
      const parts: RawBuilder<boolean>[] = [];
      if (numeric) {
        if (!c.num) return FALSE;
        if (cond.lo) parts.push(cond.loInclusive ? sql`${c.num} >= ${cond.lo.num}` : sql`${c.num} > ${cond.lo.num}`);
        if (cond.hi) parts.push(cond.hiInclusive ? sql`${c.num} <= ${cond.hi.num}` : sql`${c.num} < ${cond.hi.num}`);
        if (parts.length === 0) parts.push(sql`${c.num} is not null`);
      } else {
        if (cond.lo) parts.push(cond.loInclusive ? sql`${c.full} >= ${cond.lo.text}` : sql`${c.full} > ${cond.lo.text}`);
        if (cond.hi) parts.push(cond.hiInclusive ? sql`${c.full} <= ${cond.hi.text}` : sql`${c.full} < ${cond.hi.text}`);
        if (parts.length === 0) parts.push(TRUE);
      }
      return sql<boolean>`(${sql.join(parts, sql` and `)})`;
    }
  }
}

/** Compiles predicates for one backend. */
export class IndexQueryCompiler {
  constructor(
    private readonly dialect: Dialect,
    /** `sets` (default): leaves as `in (select …)`; `correlated`: as `exists (…)` probes per thing. */
    private readonly mode: 'sets' | 'correlated' = 'sets',
    /**
     * `thingGroupNames` sees static groups only (and the billing group): a dynamic group's query
     * never depends on another dynamic group's membership (fleet-indexing.md §8.3, decision 0046).
     */
    private readonly staticGroupsOnly = false,
  ) {}

  /** A boolean over `things t` (AWS_Things). */
  thingPredicateSql(p: IndexPredicate): RawBuilder<boolean> {
    return this.tree(p, (target, cond) => this.thingLeaf(target, cond));
  }

  /** A boolean over `thing_groups g` (AWS_ThingGroups). */
  groupPredicateSql(p: IndexPredicate): RawBuilder<boolean> {
    return this.tree(p, (target, cond) => this.groupLeaf(target, cond));
  }

  private tree(p: IndexPredicate, leaf: (t: IndexTarget, c: IndexCondition) => RawBuilder<boolean>): RawBuilder<boolean> {
    switch (p.kind) {
      case 'all':
        return TRUE;
      case 'leaf':
        return leaf(p.target, p.cond);
      case 'not':
        return sql<boolean>`not (${this.tree(p.item, leaf)})`;
      default:
        return sql<boolean>`(${sql.join(p.items.map((i) => this.tree(i, leaf)), p.kind === 'and' ? sql` and ` : sql` or `)})`;
    }
  }

  /**
   * "The thing has a row of `from` (alias `alias`) where `where`": a set (`in (select …)`, which the
   * planner drives from the value index) or, correlated, a probe by thing (`exists (…)`, for a
   * scan of things in name order that stops at a page).
   */
  /**
   * A value column that, in a correlated probe on SQLite, must not pick the index: `+col` (a no-op
   * SQLite does not index) keeps a range on a value index from being scanned once per thing
   * instead of the probe by thing.
   */
  private probeOnly<T>(column: string): RawBuilder<T> {
    return sql.raw<T>(this.mode === 'correlated' && this.dialect === 'sqlite' ? `+${column}` : column);
  }

  private rowsOf(alias: string, from: RawBuilder<unknown>, where: RawBuilder<boolean>): RawBuilder<boolean> {
    const key = sql.ref(`${alias}.thing_name`);
    return this.mode === 'correlated'
      ? sql<boolean>`exists (select 1 from ${from} where ${key} = t.thing_name and ${where})`
      : sql<boolean>`t.thing_name in (select ${key} from ${from} where ${where})`;
  }

  private thingLeaf(target: IndexTarget, cond: IndexCondition): RawBuilder<boolean> {
    switch (target.kind) {
      case 'nothing':
        return FALSE;
      case 'thingColumn': {
        const col = sql.ref(`t.${target.column}`);
        if (cond.type === 'exists') return sql<boolean>`${col} is not null`;
        const lowered = sql<string>`lower(${col})`;
        return sql<boolean>`(${col} is not null and ${valueSql(cond, { full: lowered, word: lowered })}${this.prefixRange(lowered, cond)})`;
      }
      case 'thingVersion': {
        const v = sql<number>`t.version`;
        if (cond.type === 'exists') return TRUE;
        return valueSql(cond, { full: sql<string>`cast(t.version as text)`, word: sql<string>`cast(t.version as text)`, num: v });
      }
      case 'thingGroups': {
        const staticOnly = this.staticGroupsOnly ? sql` and g.query_string is null` : sql``;
        if (cond.type === 'exists') {
          const member = this.staticGroupsOnly
            ? sql`exists (select 1 from thing_group_members m join thing_groups g on g.group_name = m.group_name where m.thing_name = t.thing_name${staticOnly})`
            : sql`exists (select 1 from thing_group_members m where m.thing_name = t.thing_name)`;
          return sql<boolean>`(t.billing_group_name is not null or ${member})`;
        }
        const gn = sql<string>`lower(g.group_name)`;
        const bn = sql<string>`lower(bg.billing_group_name)`;
        const groups = sql<boolean>`m.group_name in (select g.group_name from thing_groups g where ${valueSql(cond, { full: gn, word: gn })}${staticOnly})`;
        if (this.mode === 'correlated') {
          return sql<boolean>`(exists (select 1 from thing_group_members m where m.thing_name = t.thing_name and ${groups})
            or (t.billing_group_name is not null and exists (select 1 from billing_groups bg where bg.billing_group_name = t.billing_group_name and ${valueSql(cond, { full: bn, word: bn })})))`;
        }
        // One IN over a union: static memberships and the billing group, both by index.
        return sql<boolean>`t.thing_name in (select m.thing_name from thing_group_members m where ${groups}
          union all select b.thing_name from things b where b.billing_group_name in (select bg.billing_group_name from billing_groups bg where ${valueSql(cond, { full: bn, word: bn })}))`;
      }
      case 'attribute': {
        const cols = { full: this.probeOnly<string>('a.value_lower'), word: sql<string>`a.value_lower`, num: this.probeOnly<number>('a.value_num') };
        return this.rowsOf('a', sql`thing_attributes a`, sql`a.attr_name = ${target.name} and ${valueSql(cond, cols)}`);
      }
      case 'shadow': {
        if (target.shadowNames.length === 0) return FALSE;
        const field = target.field.includes('*') ? sql`x.field like ${fieldPattern(target.field)} escape '\\'` : sql`x.field = ${target.field}`;
        const cols = { full: this.probeOnly<string>('x.full_value'), word: sql<string>`x.word`, num: this.probeOnly<number>('x.num') };
        return this.rowsOf('x', sql`index_terms x`, sql`${field} and x.shadow_name in (${sql.join(target.shadowNames)}) and ${valueSql(cond, cols)}`);
      }
      case 'connectivity':
        return this.connectivityLeaf(target.column, cond);
      case 'anyThingField': {
        const lowered = (col: string) => sql<string>`lower(${sql.ref(col)})`;
        const registry = (['t.thing_name', 't.thing_id', 't.thing_type_name'] as const).map((c) => sql<boolean>`(${sql.ref(c)} is not null and ${valueSql(cond, { full: lowered(c), word: lowered(c) })})`);
        const attrs = { full: this.probeOnly<string>('a.value_lower'), word: sql<string>`a.value_lower`, num: this.probeOnly<number>('a.value_num') };
        const parts = [
          ...registry,
          this.thingLeaf({ kind: 'thingGroups' }, cond),
          this.rowsOf('a', sql`thing_attributes a`, valueSql(cond, attrs)),
        ];
        if (target.shadowNames.length > 0) {
          const terms = { full: this.probeOnly<string>('x.full_value'), word: sql<string>`x.word`, num: this.probeOnly<number>('x.num') };
          parts.push(this.rowsOf('x', sql`index_terms x`, sql`x.shadow_name in (${sql.join(target.shadowNames)}) and ${valueSql(cond, terms)}`));
        }
        return sql<boolean>`(${sql.join(parts, sql` or `)})`;
      }
      default:
        return FALSE;
    }
  }

  /**
   * A pattern with a literal prefix (`dev-00*`) is also a range on the lowered value, which SQLite
   * serves from the expression index (its LIKE optimisation does not apply to expressions). In
   * SQLite's binary order every string with the prefix lies in [prefix, prefix + U+10FFFF).
   * PostgreSQL's collations do not promise that, so there the LIKE alone decides.
   */
  private prefixRange(value: RawBuilder<string>, cond: IndexCondition): RawBuilder<string> {
    if (this.dialect !== 'sqlite' || cond.type !== 'like' || typeof cond.pattern[0] !== 'string' || cond.pattern[0] === '') return sql``;
    const prefix = cond.pattern[0];
    return sql` and ${value} >= ${prefix} and ${value} < ${`${prefix}\u{10FFFF}`}`;
  }

  /**
   * Connectivity: a thing never seen connected reads `connected: false` (fleet-indexing.md §5.2),
   * so `connected:false` also matches things without a row.
   */
  private connectivityLeaf(column: 'connected' | 'timestamp' | 'disconnect_reason', cond: IndexCondition): RawBuilder<boolean> {
    if (column === 'connected') {
      if (cond.type === 'exists') return TRUE;
      const isTrue = this.rowsOf('c', sql`thing_connectivity c`, sql`c.connected = 1`);
      if (cond.type === 'equals' && cond.text === 'true') return isTrue;
      if (cond.type === 'equals' && cond.text === 'false') return sql<boolean>`not (${isTrue})`;
      return FALSE;
    }
    if (column === 'timestamp') {
      const cols = { full: sql<string>`cast(c.timestamp as text)`, word: sql<string>`cast(c.timestamp as text)`, num: sql<number>`c.timestamp` };
      return this.rowsOf('c', sql`thing_connectivity c`, valueSql(cond, cols));
    }
    const r = sql<string>`lower(c.disconnect_reason)`;
    return this.rowsOf('c', sql`thing_connectivity c`, sql`c.disconnect_reason is not null and c.connected = 0 and ${valueSql(cond, { full: r, word: r })}`);
  }

  private groupLeaf(target: IndexTarget, cond: IndexCondition): RawBuilder<boolean> {
    switch (target.kind) {
      case 'groupColumn': {
        const col = sql.ref(`g.${target.column}`);
        if (cond.type === 'exists') return sql<boolean>`${col} is not null`;
        const lowered = sql<string>`lower(${col})`;
        return sql<boolean>`(${col} is not null and ${valueSql(cond, { full: lowered, word: lowered })})`;
      }
      case 'groupAttribute': {
        const raw = this.dialect === 'postgres'
          ? sql<string>`((g.attributes)::json ->> ${target.name})`
          : sql<string>`json_extract(g.attributes, ${`$."${target.name.replace(/["\\]/g, '')}"`})`;
        if (cond.type === 'exists') return sql<boolean>`${raw} is not null`;
        const lowered = sql<string>`lower(${raw})`;
        return sql<boolean>`(${raw} is not null and ${valueSql(cond, { full: lowered, word: lowered })})`;
      }
      case 'parentGroups': {
        // Ancestors: the groups on the path above this one (path '/root/child/self/').
        const anc = sql<string>`lower(p.group_name)`;
        const inner = cond.type === 'exists' ? TRUE : valueSql(cond, { full: anc, word: anc });
        return sql<boolean>`exists (select 1 from thing_groups p where p.group_name <> g.group_name and substr(g.path, 1, length(p.path)) = p.path and ${inner})`;
      }
      case 'anyGroupField':
        return sql<boolean>`(${sql.join((['group_name', 'group_id', 'description'] as const).map((column) => this.groupLeaf({ kind: 'groupColumn', column }, cond)), sql` or `)})`;
      default:
        return FALSE;
    }
  }
}
