import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VirtualClock } from '../../src/clock.js';
import { IDEMPOTENCY_WINDOW_MS, idempotent } from '../../src/domain/idempotency.js';
import { idempotencyPurge } from '../../src/workers/maintenance-reconcilers.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { Store } from '../../src/store/store.js';

/** Idempotency records expire after the window, and the purge reconciler clears expired ones. */
describe('idempotency token expiry', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetjobs-idem-'));
    opened = await openDatabase({ dataDir: dir });
    await migrateToLatest(opened.db, opened.dialect);
    store = new Store(opened.db, opened.dialect);
  });
  after(async () => {
    await opened.db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('purges records older than the window while keeping fresh ones', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 10, 25));
    const token = (i: number) => `token-${String(i).padStart(40, '0')}`;
    await idempotent(store, clock, 'Op', token(0), { i: 0 }, async () => ({ n: 0 }));
    clock.advance(IDEMPOTENCY_WINDOW_MS + 60_000);
    for (let i = 1; i <= 600; i++) await idempotent(store, clock, 'Op', token(i), { i }, async () => ({ n: i }));
    const a = idempotencyPurge({ store, clock, holder: 'node-a' });
    const b = idempotencyPurge({ store, clock, holder: 'node-b' });
    await a.run();
    assert.equal(await store.idempotency.get('Op', token(0)), undefined, 'the expired record is gone');
    // One node at a time holds the purge for its period: the other does not run it meanwhile.
    assert.equal(await store.leases.claim('idempotency-purge', 'node-b', Date.now(), Date.now() + 1000), false);
    await b.run();
    assert.deepEqual(JSON.parse((await store.idempotency.get('Op', token(600)))!.response), { n: 600 });
    // An expired token is a new request again: it runs instead of replaying.
    assert.deepEqual(await idempotent(store, clock, 'Op', token(0), { i: 'new' }, async () => ({ n: 'again' })), { n: 'again' });
  });
});
