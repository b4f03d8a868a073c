import { sql, type Kysely, type RawBuilder } from 'kysely';
import { fieldPattern, IndexQueryCompiler, type IndexPredicate } from './fleet-index-query.js';
import type { Database, Dialect } from './schema.js';

/**
 * Where an aggregation field's values are (fleet-indexing.md §7): each source is a subquery of
 * (thing_name, num, str) rows — a thing may have several (group names, array elements).
 */
export type AggregationSource =
  | { kind: 'thingColumn'; column: 'thing_name' | 'thing_id' | 'thing_type_name' | 'version' }
  | { kind: 'thingGroups' }
  | { kind: 'attribute'; name: string }
  /** Shadow values from the index rows; booleans read 1 / 0 as numbers. */
  | { kind: 'shadowValue'; field: string; shadowNames: string[] }
  | { kind: 'shadowVersion'; shadowNames: string[] }
  | { kind: 'connectivity'; column: 'connected' | 'timestamp' | 'disconnect_reason' | 'version' };

export interface NumericSummary {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  sumOfSquares: number;
}

/** Aggregations over the things a predicate selects, computed in SQL (nothing is loaded whole). */
export class FleetAggregationStore {
  private readonly compiler: IndexQueryCompiler;

  constructor(
    private readonly db: Kysely<Database>,
    dialect: Dialect,
  ) {
    this.compiler = new IndexQueryCompiler(dialect);
  }

  private source(s: AggregationSource): RawBuilder<unknown> {
    switch (s.kind) {
      case 'thingColumn':
        return s.column === 'version'
          ? sql`select thing_name, version as num, cast(version as text) as str from things`
          : sql`select thing_name, null as num, ${sql.ref(s.column)} as str from things where ${sql.ref(s.column)} is not null`;
      case 'thingGroups':
        return sql`select thing_name, null as num, group_name as str from thing_group_members
          union all select thing_name, null as num, billing_group_name as str from things where billing_group_name is not null`;
      case 'attribute':
        return sql`select thing_name, value_num as num, attr_value as str from thing_attributes where attr_name = ${s.name}`;
      case 'shadowValue': {
        if (s.shadowNames.length === 0) return sql`select thing_name, null as num, null as str from things where 1 = 0`;
        const field = s.field.includes('*') ? sql`field like ${fieldPattern(s.field)} escape '\\'` : sql`field = ${s.field}`;
        return sql`select distinct thing_name, case when full_value = 'true' and num is null then 1 when full_value = 'false' and num is null then 0 else num end as num, full_value as str
          from index_terms where ${field} and shadow_name in (${sql.join(s.shadowNames)})`;
      }
      case 'shadowVersion':
        if (s.shadowNames.length === 0) return sql`select thing_name, null as num, null as str from things where 1 = 0`;
        return sql`select thing_name, version as num, cast(version as text) as str from shadows where deleted_at is null and shadow_name in (${sql.join(s.shadowNames)})`;
      case 'connectivity': {
        const col = s.column === 'disconnect_reason' ? sql`disconnect_reason` : sql.ref(s.column);
        return s.column === 'disconnect_reason'
          ? sql`select thing_name, null as num, disconnect_reason as str from thing_connectivity where disconnect_reason is not null and connected = 0`
          : sql`select thing_name, ${col} as num, cast(${col} as text) as str from thing_connectivity`;
      }
    }
  }

  private from(p: IndexPredicate, s: AggregationSource): RawBuilder<unknown> {
    return sql`from things t join (${this.source(s)}) v on v.thing_name = t.thing_name where ${this.compiler.thingPredicateSql(p)}`;
  }

  async countMatching(p: IndexPredicate): Promise<number> {
    const r = await sql<{ n: number }>`select count(*) as n from things t where ${this.compiler.thingPredicateSql(p)}`.execute(this.db);
    return Number(r.rows[0].n);
  }

  /** Things that have a value (strings: only the count is meaningful). */
  async countWithValue(p: IndexPredicate, s: AggregationSource): Promise<number> {
    const r = await sql<{ n: number }>`select count(distinct t.thing_name) as n ${this.from(p, s)} and v.str is not null`.execute(this.db);
    return Number(r.rows[0].n);
  }

  async numeric(p: IndexPredicate, s: AggregationSource): Promise<NumericSummary> {
    const r = await sql<{ c: number; s: number | null; mn: number | null; mx: number | null; sq: number | null }>`
      select count(v.num) as c, sum(v.num) as s, min(v.num) as mn, max(v.num) as mx, sum(v.num * v.num) as sq ${this.from(p, s)} and v.num is not null`.execute(this.db);
    const row = r.rows[0];
    return { count: Number(row.c), sum: Number(row.s ?? 0), min: row.mn === null ? null : Number(row.mn), max: row.mx === null ? null : Number(row.mx), sumOfSquares: Number(row.sq ?? 0) };
  }

  /** The value at rank `k` (0-based) in ascending order. */
  async numericAt(p: IndexPredicate, s: AggregationSource, k: number): Promise<number> {
    const r = await sql<{ num: number }>`select v.num as num ${this.from(p, s)} and v.num is not null order by v.num limit 1 offset ${sql.lit(Math.max(0, Math.floor(k)))}`.execute(this.db);
    return Number(r.rows[0]?.num);
  }

  async cardinality(p: IndexPredicate, s: AggregationSource): Promise<number> {
    const r = await sql<{ n: number }>`select count(distinct v.str) as n ${this.from(p, s)} and v.str is not null`.execute(this.db);
    return Number(r.rows[0].n);
  }

  /** Terms buckets: things per value, most first (ties by value). */
  async buckets(p: IndexPredicate, s: AggregationSource, maxBuckets: number): Promise<{ keyValue: string; count: number }[]> {
    const r = await sql<{ k: string; n: number }>`select v.str as k, count(distinct t.thing_name) as n ${this.from(p, s)} and v.str is not null
      group by v.str order by n desc, k asc limit ${sql.lit(maxBuckets)}`.execute(this.db);
    return r.rows.map((row) => ({ keyValue: String(row.k), count: Number(row.n) }));
  }
}
