import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import {
  applyCancel,
  applyDeviceUpdate,
  applyRemove,
  applyStartNext,
  applyTimeout,
  approximateSecondsBeforeTimedOut,
  checkDeletable,
  jobCancelPlan,
  timeoutAt,
  type ExecutionState,
} from '../../src/domain/jobs/execution-state-machine.js';
import { notificationFor } from '../../src/domain/jobs/job-notifications.js';

const T0 = 1_700_000_000_000;
const queued = (extra: Partial<ExecutionState> = {}): ExecutionState => ({
  status: 'QUEUED', versionNumber: 1, executionNumber: 1, queuedAt: T0, lastUpdatedAt: T0, forceCanceled: false, ...extra,
});
const rejects = (fn: () => unknown, name: string, message?: RegExp) => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError);
    assert.equal(err.errorName, name);
    if (message) assert.match(err.message, message);
    return true;
  });
};

describe('the job execution state machine', () => {
  it('starts a QUEUED execution: IN_PROGRESS, version+1, startedAt, timers', () => {
    const t = applyStartNext(queued(), { statusDetails: { a: 'b' }, stepTimeoutInMinutes: 5 }, { now: T0 + 1000, inProgressTimeoutInMinutes: 3 });
    assert.equal(t.after.status, 'IN_PROGRESS');
    assert.equal(t.after.versionNumber, 2);
    assert.equal(t.after.startedAt, T0 + 1000);
    assert.deepEqual(t.after.statusDetails, { a: 'b' });
    assert.equal(t.after.stepDeadlineAt, T0 + 1000 + 5 * 60_000);
    assert.equal(t.after.inProgressDeadlineAt, T0 + 1000 + 3 * 60_000);
    assert.equal(timeoutAt(t.after), T0 + 1000 + 3 * 60_000, 'the nearest deadline wins');
    assert.equal(approximateSecondsBeforeTimedOut(t.after, T0 + 1000), 180);
    assert.ok(t.statusChanged && !t.leftPending && !t.enteredTerminal);
  });

  it('leaves an IN_PROGRESS execution untouched on start-next', () => {
    const running = applyStartNext(queued(), {}, { now: T0 }).after;
    const t = applyStartNext(running, { statusDetails: { x: 'y' } }, { now: T0 + 5 });
    assert.equal(t.changed, false);
    assert.equal(t.after, running);
  });

  it('allows QUEUED → terminal directly and sets startedAt', () => {
    const t = applyDeviceUpdate(queued(), { status: 'FAILED' }, { now: T0 + 10 });
    assert.deepEqual([t.after.status, t.after.versionNumber, t.after.startedAt], ['FAILED', 2, T0 + 10]);
    assert.ok(t.leftPending && t.enteredTerminal);
  });

  it('refuses service statuses, terminal executions and stale versions with the current state', () => {
    for (const status of ['CANCELED', 'TIMED_OUT', 'REMOVED', 'QUEUED'] as const) {
      rejects(() => applyDeviceUpdate(queued(), { status }, { now: T0 }), 'InvalidStateTransitionException', new RegExp(`changed to be ${status}`));
    }
    const done = applyDeviceUpdate(queued(), { status: 'SUCCEEDED' }, { now: T0 }).after;
    rejects(() => applyDeviceUpdate(done, { status: 'IN_PROGRESS' }, { now: T0 }), 'InvalidStateTransitionException');
    try {
      applyDeviceUpdate(queued({ versionNumber: 4 }), { status: 'IN_PROGRESS', expectedVersion: 3 }, { now: T0 });
      assert.fail('expected a rejection');
    } catch (err) {
      assert.ok(err instanceof DomainError);
      assert.equal(err.message, 'Expected version 3 but found version 4');
      assert.deepEqual(err.members.executionState, { status: 'QUEUED', versionNumber: 4 });
    }
  });

  it('replaces the step timer, clears it with -1 and ends both timers on a terminal update', () => {
    let s = applyStartNext(queued(), { stepTimeoutInMinutes: 10 }, { now: T0, inProgressTimeoutInMinutes: 60 }).after;
    s = applyDeviceUpdate(s, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 2 }, { now: T0 + 60_000, inProgressTimeoutInMinutes: 60 }).after;
    assert.equal(s.stepDeadlineAt, T0 + 3 * 60_000);
    assert.equal(s.inProgressDeadlineAt, T0 + 60 * 60_000, 'the in-progress timer keeps its start');
    s = applyDeviceUpdate(s, { status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 }, { now: T0 + 120_000 }).after;
    assert.equal(s.stepDeadlineAt, undefined);
    assert.equal(timeoutAt(s), T0 + 60 * 60_000);
    s = applyDeviceUpdate(s, { status: 'SUCCEEDED' }, { now: T0 + 180_000 }).after;
    assert.equal(timeoutAt(s), undefined);
    assert.equal(approximateSecondsBeforeTimedOut(s, T0), undefined);
  });

  it('times out only past the deadline', () => {
    const s = applyStartNext(queued(), { stepTimeoutInMinutes: 1 }, { now: T0 }).after;
    assert.equal(applyTimeout(s, T0 + 59_000).changed, false);
    const t = applyTimeout(s, T0 + 60_000);
    assert.deepEqual([t.after.status, t.after.versionNumber], ['TIMED_OUT', 3]);
  });

  it('cancels: QUEUED always, IN_PROGRESS with force, terminal never; versions checked', () => {
    const c = applyCancel(queued(), { force: false }, T0);
    assert.deepEqual([c.after.status, c.after.versionNumber, c.after.forceCanceled], ['CANCELED', 2, false]);
    const running = applyStartNext(queued(), {}, { now: T0 }).after;
    rejects(() => applyCancel(running, { force: false }, T0), 'InvalidStateTransitionException');
    const forced = applyCancel(running, { force: true }, T0);
    assert.deepEqual([forced.after.status, forced.after.versionNumber, forced.after.forceCanceled], ['CANCELED', 3, true]);
    rejects(() => applyCancel(forced.after, { force: true }, T0), 'InvalidStateTransitionException');
    rejects(() => applyCancel(queued(), { force: false, expectedVersion: 2 }, T0), 'VersionConflictException', /found version 1/);
    assert.deepEqual(jobCancelPlan(false).map((p) => p.from), ['QUEUED']);
    assert.deepEqual(jobCancelPlan(true).map((p) => [p.from, p.forceCanceled]), [['QUEUED', false], ['IN_PROGRESS', true]]);
  });

  it('removes pending executions without a version bump, and guards deletion', () => {
    const r = applyRemove(queued(), T0 + 1);
    assert.deepEqual([r.after.status, r.after.versionNumber], ['REMOVED', 1]);
    assert.equal(applyRemove(r.after, T0 + 2).changed, false);
    const running = applyStartNext(queued(), {}, { now: T0 }).after;
    rejects(() => checkDeletable(running, false), 'InvalidStateTransitionException');
    checkDeletable(running, true);
    checkDeletable(queued(), false);
  });
});

describe('when notify and notify-next fire (jobs.md §10.3)', () => {
  it('notify on entering or leaving the pending set, notify-next when the front changes', () => {
    assert.deepEqual(notificationFor('t', { pendingBefore: false, pendingAfter: true, frontBefore: undefined, frontAfter: 'j#1' }), { kind: 'thing', thingName: 't', notify: true, notifyNext: true });
    assert.deepEqual(notificationFor('t', { pendingBefore: false, pendingAfter: true, frontBefore: 'a#1', frontAfter: 'a#1' }), { kind: 'thing', thingName: 't', notify: true, notifyNext: false }, 'a job queued behind another: notify only');
    assert.equal(notificationFor('t', { pendingBefore: true, pendingAfter: true, frontBefore: 'a#1', frontAfter: 'a#1' }), undefined, 'start-next on the front job is silent');
    assert.deepEqual(notificationFor('t', { pendingBefore: true, pendingAfter: true, frontBefore: 'a#1', frontAfter: 'b#1' }), { kind: 'thing', thingName: 't', notify: false, notifyNext: true }, 'a non-first job starting becomes first');
    assert.deepEqual(notificationFor('t', { pendingBefore: true, pendingAfter: false, frontBefore: 'a#1', frontAfter: undefined }), { kind: 'thing', thingName: 't', notify: true, notifyNext: true });
  });
});
