import assert from 'node:assert/strict';
import { ListJobExecutionsForJobCommand, type JobExecutionStatus } from '@aws-sdk/client-iot';
import { jobState, pickCounters } from './jobs.js';
import type { TestServer } from './server.js';

/** Helpers for races between device and control-plane calls (issue 8, item 5). */
const KEYS = { QUEUED: 'queued', IN_PROGRESS: 'inProgress', SUCCEEDED: 'succeeded', FAILED: 'failed', REJECTED: 'rejected', CANCELED: 'canceled', REMOVED: 'removed', TIMED_OUT: 'timedOut' } as const;
/** What a lost race may answer; anything else (a 500 above all) is a defect. */
export const RACE_ANSWERS = new Set(['ResourceNotFoundException', 'InvalidStateTransitionException', 'VersionConflictException']);

/** Every execution of a job, counted by status the way DescribeJob's counters name them. */
export async function countedExecutions(t: TestServer, jobId: string) {
  const counts = { queued: 0, inProgress: 0, succeeded: 0, failed: 0, rejected: 0, canceled: 0, removed: 0, timedOut: 0 };
  let nextToken: string | undefined;
  do {
    const page = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }));
    for (const s of page.executionSummaries ?? []) counts[KEYS[s.jobExecutionSummary!.status as JobExecutionStatus]]++;
    nextToken = page.nextToken;
  } while (nextToken);
  return counts;
}

export async function assertCountersExact(t: TestServer, jobId: string): Promise<void> {
  const state = await jobState(t, jobId);
  assert.deepEqual(pickCounters(state), await countedExecutions(t, jobId), `counters of ${jobId}`);
  if (state.queued === 0 && state.inProgress === 0 && state.targetSelection === 'SNAPSHOT' && state.status !== 'CANCELED') assert.equal(state.status, 'COMPLETED', `${jobId} has nothing pending`);
}

/** Runs the calls at once; each either succeeds or gets one of the answers a lost race may get. */
export async function race(calls: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(calls);
  for (const r of results) {
    if (r.status === 'rejected') {
      const e = r.reason as Error;
      assert.ok(RACE_ANSWERS.has(e.name), `unexpected answer ${e.name}: ${e.message}`);
    }
  }
}

