import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { VirtualClock } from '../../src/clock.js';
import { PolicyChangeFeed } from '../../src/domain/policies/policy-rules.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { Store } from '../../src/store/store.js';
import { POLICY_CHANGE_RETAIN_MS, policyChangeReconciler } from '../../src/workers/policy-change-reconciler.js';
import type { Reconciler } from '../../src/workers/engine.js';
import { POSTGRES_URL, testBackends } from '../support/backends.js';

/**
 * Decision 0049's change log on a real store: what this node's feed hears from changes another
 * feed (another instance) recorded — once, only committed ones, whatever order they commit in —
 * and the pruning and catching up that keep the log small.
 */
for (const backend of await testBackends()) {
  describe(`the policy change log (${backend.name})`, { skip: backend.skip }, () => {
    let dataDir: string;
    let opened: OpenedDatabase;
    let store: Store;
    const schema = backend.name === 'postgres' ? `fjpc_${process.pid}_${Math.random().toString(36).slice(2, 8)}` : undefined;
    const clock = new VirtualClock(Date.now());
    /** This node's feed, and what its listeners heard ('*': every connection). */
    const mine = new PolicyChangeFeed();
    const heard: string[] = [];
    mine.subscribe((thing) => heard.push(thing ?? '*'));
    /** Another instance's feed on the same database. */
    const other = new PolicyChangeFeed();
    let reconciler: Reconciler;
    /** One read: past the reconciler's 200 ms between reads; what it made the feed hear. */
    const read = async () => {
      clock.advance(250);
      heard.length = 0;
      await reconciler.run();
      return [...heard];
    };

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-policy-changes-'));
      opened = await openDatabase({ dataDir, databaseUrl: backend.name === 'postgres' ? POSTGRES_URL : undefined, schema });
      await migrateToLatest(opened.db, opened.dialect);
      store = new Store(opened.db, opened.dialect);
      reconciler = policyChangeReconciler({ store, feed: mine, clock, log: pino({ level: 'silent' }) });
    });
    after(async () => {
      await opened?.db.destroy();
      await rm(dataDir, { recursive: true, force: true });
      if (schema) {
        const c = new pg.Client({ connectionString: POSTGRES_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      }
    });

    it('starts at the newest row, binding every connection once; then hears other feeds\' changes once and its own not again', async () => {
      await other.record(store, ['before-boot']);
      heard.length = 0;
      await reconciler.run();
      assert.deepEqual(heard, ['*'], 'the first look binds every connection again, and skips what came before');
      assert.deepEqual(await read(), []);
      heard.length = 0;
      await store.transaction(async (tx) => {
        await mine.record(tx, ['own']);
        await other.record(tx, ['t1', 't2']);
        assert.deepEqual(heard, [], 'nothing is heard before commit');
      });
      assert.deepEqual(heard, ['own'], 'its own change at once, after commit');
      assert.deepEqual(await read(), ['t1', 't2'], 'the other feed\'s, by the log; its own not twice');
      assert.deepEqual(await read(), []);
      await other.record(store);
      assert.deepEqual(await read(), ['*']);
    });

    it('a rolled-back change is heard nowhere; a change of more than 1000 things is one change to every connection', async () => {
      await assert.rejects(store.transaction(async (tx) => {
        await other.record(tx, ['rolled-back']);
        throw new Error('rollback');
      }), /rollback/);
      assert.deepEqual(await read(), []);
      await other.record(store, Array.from({ length: 1001 }, (_, i) => `many-${i}`));
      assert.deepEqual(await read(), ['*']);
    });

    if (backend.name === 'postgres') {
      it('a change that commits after a later seq was read is still heard (its seq is looked for again)', async () => {
        let inserted!: () => void;
        const insertedP = new Promise<void>((resolve) => (inserted = resolve));
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        const slow = store.transaction(async (tx) => {
          await other.record(tx, ['late']);
          inserted();
          await released;
        });
        await insertedP;
        await other.record(store, ['early']);
        assert.deepEqual(await read(), ['early']);
        release();
        await slow;
        assert.deepEqual(await read(), ['late']);
        assert.deepEqual(await read(), [], 'heard once');
      });
    }

    it('a node that has not read for half the retention binds every connection again; rows past the retention are pruned', async () => {
      await other.record(store, ['old']);
      clock.advance(POLICY_CHANGE_RETAIN_MS / 2);
      assert.deepEqual(await read(), ['*'], 'what it missed may be pruned: every connection');
      assert.ok((await store.policyChanges.maxSeq()) > 0);
      clock.advance(POLICY_CHANGE_RETAIN_MS);
      await read();
      assert.equal(await store.policyChanges.maxSeq(), 0, 'every row is older than the retention');
      await other.record(store, ['after-prune']);
      assert.deepEqual(await read(), ['after-prune']);
    });
  });
}
