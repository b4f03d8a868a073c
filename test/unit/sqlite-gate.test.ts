import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, type OpenedDatabase } from '../../src/store/db.js';
import { ReusableQuery } from '../../src/store/reusable-query.js';
import { Store } from '../../src/store/store.js';

const valueOf = new ReusableQuery<[string], { v: number }>((_db, [k]) => sql<{ v: number }>`select v from gate_test where k = ${k}`);

/**
 * SQLite's gate (store/sqlite-fifo.ts): transactions of one turn share one COMMIT, each under a
 * savepoint; nothing returns before it is committed, and a failed member is undone alone.
 */
describe('SQLite group commit', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let store: Store;
  /** A second connection: it sees only what is committed. */
  let other: SqliteDatabase.Database;
  const committed = (k: string) => (other.prepare('select v from gate_test where k = ?').get(k) as { v: number } | undefined)?.v;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetjobs-gate-'));
    opened = await openDatabase({ dataDir: dir });
    await sql`create table gate_test (k text primary key, v integer not null)`.execute(opened.db);
    store = new Store(opened.db, opened.dialect);
    other = new SqliteDatabase(join(dir, 'fleetjobs.db'), { readonly: true });
  });
  after(async () => {
    other.close();
    await opened.db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('commits the members of one turn together, undoes a failed one alone, and returns only once committed', async () => {
    const hooks: string[] = [];
    const seenAtReturn = new Map<string, number | undefined>();
    const member = (k: string, fail: boolean) =>
      store
        .transaction(async (tx) => {
          await sql`insert into gate_test (k, v) values (${k}, 1)`.execute(tx.db);
          await sql`update gate_test set v = v + 1 where k = ${k}`.execute(tx.db);
          tx.afterCommit(() => hooks.push(k));
          if (fail) throw new Error(`${k} fails`);
          return k;
        })
        .then((r) => {
          seenAtReturn.set(k, committed(k));
          return r;
        });
    const results = await Promise.allSettled([member('a', false), member('b', true), member('c', false), member('d', true), member('e', false)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(hooks, ['a', 'c', 'e']);
    for (const k of ['a', 'c', 'e']) assert.equal(seenAtReturn.get(k), 2, `${k} was committed when it returned`);
    for (const k of ['b', 'd']) assert.equal(committed(k), undefined, `${k} was undone`);
  });

  it('answers a read made while a group is open once the group has committed', async () => {
    let readAt: number | undefined;
    const write = store.transaction(async (tx) => {
      await sql`insert into gate_test (k, v) values ('r', 7)`.execute(tx.db);
    });
    // The write has run but not committed: the read runs in its group and waits for the COMMIT.
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
    const read = valueOf.run(store.db, store.dialect, ['r']).then((r) => {
      readAt = committed('r');
      return r.rows[0]?.v;
    });
    assert.equal(await read, 7);
    assert.equal(readAt, 7, 'what it read was committed when it answered');
    await write;
  });

  it('runs a statement that cannot join after the group committed', async () => {
    const write = store.transaction(async (tx) => {
      await sql`insert into gate_test (k, v) values ('w', 1)`.execute(tx.db);
    });
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
    // Through Kysely outside a transaction: it takes the connection, which commits the group first.
    await sql`update gate_test set v = 5 where k = 'w'`.execute(store.db);
    await write;
    assert.equal(committed('w'), 5);
  });
});
