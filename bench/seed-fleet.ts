import { CreateThingGroupCommand } from '@aws-sdk/client-iot';
import { sql } from 'kysely';
import type { Backend } from '../test/support/backends.js';
import type { TestServer } from '../test/support/server.js';

/** `prefix-000001` …: the name of the n-th seeded thing. */
export const fleetThing = (prefix: string, n: number) => `${prefix}-${String(n).padStart(6, '0')}`;

/**
 * Seeds `count` things in a new thing group set-based, straight into the registry tables (seeding
 * is not what the benchmarks measure), named fleetThing(prefix, 1 … count).
 */
export async function seedFleet(t: TestServer, backend: Backend, group: string, prefix: string, count: number): Promise<void> {
  const db = t.server.store.db;
  await t.iot.send(new CreateThingGroupCommand({ thingGroupName: group }));
  const now = t.clock.now();
  if (backend.name === 'postgres') {
    await sql`insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at)
      select ${prefix} || '-' || lpad(n::text, 6, '0'), md5(${prefix} || n::text), null, null, '{}', 1, ${now}::bigint from generate_series(1, ${count}::int) n`.execute(db);
    await sql`insert into thing_group_members (group_name, thing_name, added_at)
      select ${group}, ${prefix} || '-' || lpad(n::text, 6, '0'), ${now}::bigint from generate_series(1, ${count}::int) n`.execute(db);
  } else {
    await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${count})
      insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at)
      select ${prefix} || '-' || substr('000000' || n, -6, 6), hex(randomblob(16)), null, null, '{}', 1, ${now} from seq`.execute(db);
    await sql`insert into thing_group_members (group_name, thing_name, added_at)
      select ${group}, thing_name, ${now} from things where thing_name like ${`${prefix}-%`}`.execute(db);
  }
}
