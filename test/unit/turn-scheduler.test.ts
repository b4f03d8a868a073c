import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnScheduler } from '../../src/protocol/http/turn-scheduler.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnScheduler', () => {
  it('starts at most perTurn requests in a turn and the rest in later turns, first come first served', async () => {
    const s = new TurnScheduler(3);
    const started: number[] = [];
    for (let i = 0; i < 8; i++) s.run(() => started.push(i));
    assert.deepEqual(started, [0, 1, 2]);
    assert.equal(s.waiting, 5);
    await nextTurn();
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    // A newcomer queues behind those still waiting, even though budget would be left later.
    s.run(() => started.push(99));
    await nextTurn();
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 99]);
    assert.equal(s.waiting, 0);
  });

  it('starts at once while a turn has budget and nobody waits', async () => {
    const s = new TurnScheduler(2);
    const started: string[] = [];
    s.run(() => started.push('a'));
    assert.deepEqual(started, ['a']);
    await nextTurn();
    s.run(() => started.push('b'));
    s.run(() => started.push('c'));
    s.run(() => started.push('d'));
    assert.deepEqual(started, ['a', 'b', 'c']);
    await nextTurn();
    assert.deepEqual(started, ['a', 'b', 'c', 'd']);
  });
});
