import { sql, type RawBuilder } from 'kysely';

/** A target to expand into things: a thing, or a thing group with its materialized path. */
export interface FanOutTarget {
  position: number;
  type: 'thing' | 'thinggroup';
  name: string;
  /**
   * Group path ('/root/child/'); every group whose path starts with it is in the tree. Names are
   * `[a-zA-Z0-9:_-]` and '/' separates them, all below '~', so the range [p, p + '~') is exactly
   * that prefix on the C-collated column (migration 0002), and uses its index.
   */
  path?: string;
}

/**
 * Every thing the targets reach — thing groups expanded with all their descendants — each once,
 * with the position of the first target that reaches it: `(thing_name, pos)` rows, for an
 * `INSERT … SELECT` that never passes the things through JavaScript. Undefined for no targets.
 */
export function targetThings(targets: FanOutTarget[]): RawBuilder<unknown> | undefined {
  const parts: RawBuilder<unknown>[] = targets.map((t) =>
    t.type === 'thing'
      ? sql`select cast(${t.name} as text) as thing_name, cast(${t.position} as integer) as pos`
      : sql`select m.thing_name as thing_name, cast(${t.position} as integer) as pos
            from thing_group_members m join thing_groups g on g.group_name = m.group_name
            where g.path >= ${t.path!} and g.path < ${`${t.path!}~`}`,
  );
  if (parts.length === 0) return undefined;
  return sql`select u.thing_name, min(u.pos) as pos from (${sql.join(parts, sql` union all `)}) u group by u.thing_name`;
}
