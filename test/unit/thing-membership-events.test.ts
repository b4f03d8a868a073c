import { DocumentChanges } from '../../src/domain/indexing/document-changes.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import pg from 'pg';
import { VirtualClock } from '../../src/clock.js';
import { Arns } from '../../src/domain/arns.js';
import { DEFAULT_LIMITS } from '../../src/domain/context.js';
import type { MembershipListener } from '../../src/domain/things/membership-events.js';
import { ThingRegistry } from '../../src/domain/things/registry.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { Store } from '../../src/store/store.js';
import { POSTGRES_URL, testBackends } from '../support/backends.js';

type Event =
  | { kind: 'changed'; thing: string; joined: string[]; left: string[]; inTree: boolean; leftPaths: string[] }
  | { kind: 'deleted'; thing: string; groupsAtDeletion: string[] };

/**
 * The membership-listener contract Jobs builds CONTINUOUS jobs on: called in the changing
 * transaction, only for real changes, with direct groups only; the store already shows the new
 * membership; a throwing listener rolls the change back. Domain services over a real database.
 */
for (const backend of await testBackends()) {
  describe(`membership listeners (${backend.name})`, { skip: backend.skip }, () => {
    let opened: OpenedDatabase;
    let dataDir: string;
    let schema: string | undefined;
    let registry: ThingRegistry;
    let store: Store;
    let events: Event[];
    let failNext: string | undefined;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-unit-'));
      schema = backend.name === 'postgres' ? `fj_u_${process.pid}_${Math.random().toString(36).slice(2, 10)}` : undefined;
      opened = await openDatabase({ dataDir, databaseUrl: backend.name === 'postgres' ? POSTGRES_URL : undefined, schema });
      await migrateToLatest(opened.db, opened.dialect);
      store = new Store(opened.db, opened.dialect);
      registry = new ThingRegistry({ store, clock: new VirtualClock(), arns: new Arns('us-east-1', '123456789012'), limits: DEFAULT_LIMITS }, new DocumentChanges());
      const listener: MembershipListener = {
        async membershipChanged(tx, thingName, change) {
          // What the listener sees must already be the new state, through the transaction.
          const inTree = await tx.thingGroups.isThingInGroupTree(thingName, 'root');
          // Jobs reads the paths of the groups left, to find their ancestors' jobs.
          const leftPaths = (await tx.thingGroups.getMany(change.left)).map((g) => g.path).sort();
          events.push({ kind: 'changed', thing: thingName, ...change, inTree, leftPaths });
          if (failNext === thingName) throw new Error('listener refused');
        },
        async thingDeleted(tx, thingName) {
          events.push({ kind: 'deleted', thing: thingName, groupsAtDeletion: await tx.thingGroups.directGroupNamesOf(thingName) });
        },
      };
      registry.addMembershipListener(listener);
      await registry.groups.createThingGroup({ thingGroupName: 'root' });
      await registry.groups.createThingGroup({ thingGroupName: 'mid', parentGroupName: 'root' });
      await registry.groups.createThingGroup({ thingGroupName: 'leaf', parentGroupName: 'mid' });
      await registry.groups.createThingGroup({ thingGroupName: 'side' });
      for (const thingName of ['t1', 't2', 't3']) await registry.things.createThing({ thingName });
    });
    after(async () => {
      await opened?.db.destroy();
      await rm(dataDir, { recursive: true, force: true });
      if (schema) {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    });
    beforeEach(() => {
      events = [];
      failNext = undefined;
    });

    it('reports adds and removes with the direct group only, and nothing for no-ops', async () => {
      await registry.membership.addThingToThingGroup({ thingName: 't1', thingGroupName: 'leaf' });
      await registry.membership.addThingToThingGroup({ thingName: 't1', thingGroupName: 'leaf' });
      await registry.membership.removeThingFromThingGroup({ thingName: 't1', thingGroupName: 'side' });
      await registry.membership.removeThingFromThingGroup({ thingName: 't1', thingGroupName: 'leaf' });
      assert.deepEqual(events, [
        { kind: 'changed', thing: 't1', joined: ['leaf'], left: [], inTree: true, leftPaths: [] },
        { kind: 'changed', thing: 't1', joined: [], left: ['leaf'], inTree: false, leftPaths: ['/root/mid/leaf/'] },
      ]);
    });

    it('reports one change per UpdateThingGroupsForThing with only what really changed', async () => {
      await registry.membership.addThingToThingGroup({ thingName: 't2', thingGroupName: 'side' });
      events = [];
      await registry.membership.updateThingGroupsForThing({ thingName: 't2', thingGroupsToAdd: ['mid', 'side'], thingGroupsToRemove: ['leaf'] });
      await registry.membership.updateThingGroupsForThing({ thingName: 't2', thingGroupsToAdd: ['leaf'], thingGroupsToRemove: ['side', 'root'] });
      await registry.membership.updateThingGroupsForThing({ thingName: 't2', thingGroupsToAdd: ['leaf'], thingGroupsToRemove: ['side'] });
      assert.deepEqual(events, [
        { kind: 'changed', thing: 't2', joined: ['mid'], left: [], inTree: true, leftPaths: [] },
        { kind: 'changed', thing: 't2', joined: ['leaf'], left: ['side'], inTree: true, leftPaths: ['/side/'] },
      ]);
    });

    it('a throwing listener rolls the whole change back', async () => {
      failNext = 't3';
      await assert.rejects(registry.membership.updateThingGroupsForThing({ thingName: 't3', thingGroupsToAdd: ['side', 'root'] }), /listener refused/);
      assert.deepEqual(await store.thingGroups.directGroupNamesOf('t3'), []);
    });

    it('DeleteThingGroup makes every member leave it while the group and its ancestry can still be read', async () => {
      await registry.groups.createThingGroup({ thingGroupName: 'temp', parentGroupName: 'root' });
      await registry.membership.addThingToThingGroup({ thingName: 't1', thingGroupName: 'temp' });
      await registry.membership.addThingToThingGroup({ thingName: 't3', thingGroupName: 'temp' });
      events = [];
      await registry.groups.deleteThingGroup({ thingGroupName: 'temp' });
      assert.equal(await store.thingGroups.get('temp'), undefined);
      assert.deepEqual(events, [
        { kind: 'changed', thing: 't1', joined: [], left: ['temp'], inTree: false, leftPaths: ['/root/temp/'] },
        { kind: 'changed', thing: 't3', joined: [], left: ['temp'], inTree: false, leftPaths: ['/root/temp/'] },
      ]);
      // Deleting a group nobody is in, or one that is not there, says nothing.
      events = [];
      await registry.groups.createThingGroup({ thingGroupName: 'empty' });
      await registry.groups.deleteThingGroup({ thingGroupName: 'empty' });
      await registry.groups.deleteThingGroup({ thingGroupName: 'empty' });
      assert.deepEqual(events, []);
    });

    it('DeleteThing tells thingDeleted while the memberships are still visible, then they go', async () => {
      await registry.things.createThing({ thingName: 'gone' });
      await registry.membership.updateThingGroupsForThing({ thingName: 'gone', thingGroupsToAdd: ['side', 'leaf'] });
      events = [];
      await registry.things.deleteThing({ thingName: 'gone' });
      assert.deepEqual(events, [{ kind: 'deleted', thing: 'gone', groupsAtDeletion: ['leaf', 'side'] }]);
      assert.deepEqual(await store.thingGroups.directGroupNamesOf('gone'), []);
      events = [];
      await registry.things.deleteThing({ thingName: 'gone' });
      assert.deepEqual(events, []);
    });

    it('isThingInGroupTree follows descendants and nothing else', async () => {
      await registry.things.createThing({ thingName: 'tree' });
      await registry.membership.addThingToThingGroup({ thingName: 'tree', thingGroupName: 'mid' });
      assert.equal(await store.thingGroups.isThingInGroupTree('tree', 'root'), true);
      assert.equal(await store.thingGroups.isThingInGroupTree('tree', 'mid'), true);
      assert.equal(await store.thingGroups.isThingInGroupTree('tree', 'leaf'), false);
      assert.equal(await store.thingGroups.isThingInGroupTree('tree', 'side'), false);
      assert.equal(await store.thingGroups.isThingInGroupTree('tree', 'no-such-group'), false);
      assert.equal(await store.thingGroups.isThingInGroupTree('nobody', 'root'), false);
      // A sibling whose name merely starts like the group is not inside it.
      await registry.groups.createThingGroup({ thingGroupName: 'mid2', parentGroupName: 'root' });
      await registry.things.createThing({ thingName: 'sib' });
      await registry.membership.addThingToThingGroup({ thingName: 'sib', thingGroupName: 'mid2' });
      assert.equal(await store.thingGroups.isThingInGroupTree('sib', 'mid'), false);
      assert.equal((await store.thingGroups.get('leaf'))?.path, '/root/mid/leaf/');
      assert.deepEqual(await store.thingGroups.groupNamesInTree('/root/mid/'), ['leaf', 'mid']);
    });
  });
}
