import { sql, type Kysely } from 'kysely';
import { numericValue } from '../../text-number.js';
import type { Dialect } from '../schema.js';

/**
 * Fleet indexing (issue 12, decision 0025). The registry is searched where it lives (`things`,
 * `thing_attributes`, `thing_group_members`); what it lacks for AWS's query language is added here:
 * - `thing_attributes.value_lower` / `value_num`: values match case-insensitively, and an attribute
 *   that reads as a number compares as one (fleet-indexing.md §6.3);
 * - `index_terms`: one row per indexed shadow value (a word of a string, a number, a boolean), kept
 *   in step with every shadow write;
 * - `thing_connectivity`: what the MQTT door saw of each thing's connection;
 * - `fleet_indexing`: the account's indexing configuration and the index's build state (one row).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('thing_attributes').addColumn('value_lower', 'text').execute();
  await db.schema.alterTable('thing_attributes').addColumn('value_num', 'double precision').execute();
  // Rows written before this migration get their derived values (in batches, by key).
  let after: { t: string; a: string } | undefined;
  for (;;) {
    let q = db.selectFrom('thing_attributes').select(['thing_name', 'attr_name', 'attr_value']).orderBy('thing_name').orderBy('attr_name').limit(1000);
    if (after) {
      const { t, a } = after;
      q = q.where((eb) => eb.or([eb('thing_name', '>', t), eb.and([eb('thing_name', '=', t), eb('attr_name', '>', a)])]));
    }
    const rows = (await q.execute()) as { thing_name: string; attr_name: string; attr_value: string }[];
    for (const r of rows) {
      await db.updateTable('thing_attributes')
        .set({ value_lower: r.attr_value.toLowerCase(), value_num: numericValue(r.attr_value) })
        .where('thing_name', '=', r.thing_name).where('attr_name', '=', r.attr_name).execute();
    }
    if (rows.length < 1000) break;
    const last = rows[rows.length - 1];
    after = { t: last.thing_name, a: last.attr_name };
  }
  await db.schema.createIndex('thing_attributes_by_lower').on('thing_attributes').columns(['attr_name', 'value_lower', 'thing_name']).execute();
  await db.schema.createIndex('thing_attributes_by_num').on('thing_attributes').columns(['attr_name', 'value_num', 'thing_name']).execute();
  // Names match case-insensitively: thingName:abc is an index lookup on the lowered name.
  await sql`create index things_by_lower_name on things (lower(thing_name))`.execute(db);
  // PostgreSQL serves `lower(thing_name) like 'dev-00%'` only from a pattern-ops index (SQLite's
  // compiler adds a range on the index above instead).
  if (dialect === 'postgres') await sql`create index things_by_lower_name_pattern on things (lower(thing_name) text_pattern_ops)`.execute(db);

  await db.schema
    .createTable('index_terms')
    .addColumn('thing_name', 'text', (c) => c.notNull())
    // '' for the classic shadow, else the named shadow's name.
    .addColumn('shadow_name', 'text', (c) => c.notNull())
    // The full field path as a query names it: shadow.reported.a.b, shadow.name.$package.reported.fw.version.
    .addColumn('field', 'text', (c) => c.notNull())
    // One word of a string (lowercased), a number's or boolean's text.
    .addColumn('word', 'text', (c) => c.notNull())
    // The whole string value, lowercased (phrases, string ranges).
    .addColumn('full_value', 'text', (c) => c.notNull())
    .addColumn('num', 'double precision')
    .execute();
  await db.schema.createIndex('index_terms_by_word').on('index_terms').columns(['field', 'word', 'thing_name']).execute();
  await db.schema.createIndex('index_terms_by_num').on('index_terms').columns(['field', 'num', 'thing_name']).execute();
  await db.schema.createIndex('index_terms_by_thing').on('index_terms').columns(['thing_name', 'shadow_name']).execute();
  await db.schema.createIndex('index_terms_any_field').on('index_terms').columns(['word', 'thing_name']).execute();

  await db.schema
    .createTable('thing_connectivity')
    .addColumn('thing_name', 'text', (c) => c.primaryKey())
    .addColumn('connected', 'integer', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('disconnect_reason', 'text')
    .addColumn('client_id', 'text')
    .addColumn('keep_alive', 'integer')
    .addColumn('clean_session', 'integer')
    .addColumn('session_expiry', 'integer')
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('thing_connectivity_by_state').on('thing_connectivity').columns(['connected', 'thing_name']).execute();

  await db.schema
    .createTable('fleet_indexing')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    // JSON: the stored thingIndexingConfiguration / thingGroupIndexingConfiguration (input shape).
    .addColumn('thing_config', 'text', (c) => c.notNull())
    .addColumn('group_config', 'text', (c) => c.notNull())
    // ACTIVE | BUILDING | REBUILDING (the AWS_Things index; unused while thing indexing is OFF).
    .addColumn('thing_status', 'text', (c) => c.notNull())
    // Bumped by every configuration change: a build step of an older generation changes nothing.
    .addColumn('generation', 'bigint', (c) => c.notNull())
    // The build's progress: shadows after this (thing, shadow) key are still to be indexed; null when done.
    .addColumn('build_after_thing', 'text')
    .addColumn('build_after_shadow', 'text')
    .addColumn('build_done', 'integer', (c) => c.notNull())
    // The build is not reported done before this (indexBuildDelayMs).
    .addColumn('build_not_before', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
