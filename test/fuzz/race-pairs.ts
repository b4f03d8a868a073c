import {
  AddThingToThingGroupCommand,
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  DeleteJobExecutionCommand,
  DeleteThingCommand,
  ListJobExecutionsForJobCommand,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { groupArn, jobsDataClient, seedGroup } from '../support/jobs.js';
import { assertCountersExact, race } from '../support/races.js';
import type { TestServer } from '../support/server.js';
import { Prng } from './prng.js';
import type { Finding } from './route-fuzzer.js';

/**
 * Device and control-plane calls racing on the same executions (issue 8, item 5), the probe's
 * pairs and a few more: after each round every job's counters must equal a count of its
 * executions by status, and a SNAPSHOT job with nothing pending must be COMPLETED.
 */
type Pair = (ctx: { t: TestServer; devices: ReturnType<typeof jobsDataClient>; group: string; job: string; thing: string }) => Promise<unknown>[];

const PAIRS: { name: string; targetSelection: 'SNAPSHOT' | 'CONTINUOUS'; pair: Pair }[] = [
  { name: 'RemoveThingFromThingGroup / StartNext', targetSelection: 'CONTINUOUS', pair: ({ t, devices, group, thing }) => [
    devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing })),
    t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: group, thingName: thing })),
  ] },
  { name: 'DeleteJobExecution(force) / StartNext', targetSelection: 'SNAPSHOT', pair: ({ t, devices, job, thing }) => [
    devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing })),
    t.iot.send(new DeleteJobExecutionCommand({ jobId: job, thingName: thing, executionNumber: 1, force: true })),
  ] },
  { name: 'CancelJobExecution / DeleteJobExecution', targetSelection: 'SNAPSHOT', pair: ({ t, job, thing }) => [
    t.iot.send(new CancelJobExecutionCommand({ jobId: job, thingName: thing })),
    t.iot.send(new DeleteJobExecutionCommand({ jobId: job, thingName: thing, executionNumber: 1 })),
  ] },
  { name: 'UpdateJobExecution(SUCCEEDED) / CancelJobExecution(force)', targetSelection: 'SNAPSHOT', pair: ({ t, devices, job, thing }) => [
    devices.send(new UpdateJobExecutionCommand({ thingName: thing, jobId: job, status: 'SUCCEEDED' })),
    t.iot.send(new CancelJobExecutionCommand({ jobId: job, thingName: thing, force: true })),
  ] },
  { name: 'StartNext / DeleteThing', targetSelection: 'SNAPSHOT', pair: ({ t, devices, thing }) => [
    devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing })),
    t.iot.send(new DeleteThingCommand({ thingName: thing })),
  ] },
  { name: 'membership churn / StartNext', targetSelection: 'CONTINUOUS', pair: ({ t, devices, group, thing }) => [
    t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: group, thingName: thing })),
    devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing })),
    t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing })),
  ] },
];

async function checkJob(t: TestServer, job: string, label: string, findings: Finding[]): Promise<void> {
  try {
    await assertCountersExact(t, job);
  } catch (err) {
    findings.push({ kind: 'counter drift', request: label, detail: (err as Error).message.slice(0, 500) });
  }
}

/**
 * Each pair runs `trials` times on its own thing of a fresh job; every 10 things race at once. The
 * last round cancels a CONTINUOUS job while its group churns.
 */
export async function runRacePairs(t: TestServer, opts: { trials: number; seed: number; prefix?: string }): Promise<{ sent: number; findings: Finding[] }> {
  const r = new Prng(opts.seed);
  const findings: Finding[] = [];
  const devices = jobsDataClient(t);
  const prefix = opts.prefix ?? `race${opts.seed}`;
  let sent = 0;
  try {
    for (const [i, p] of PAIRS.entries()) {
      const group = `${prefix}-g${i}`;
      const job = `${prefix}-j${i}`;
      const things = Array.from({ length: opts.trials }, (_, k) => `${prefix}-${i}-${k}`);
      await seedGroup(t, group, things);
      await t.iot.send(new CreateJobCommand({ jobId: job, targets: [groupArn(group)], document: '{}', targetSelection: p.targetSelection }));
      if (p.name.startsWith('UpdateJobExecution')) for (const thing of things) await devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing }));
      for (let k = 0; k < things.length; k += 10) {
        const batch = things.slice(k, k + 10);
        const calls = batch.flatMap((thing) => {
          const c = p.pair({ t, devices, group, job, thing });
          return r.chance(0.5) ? c : c.reverse();
        });
        sent += calls.length;
        try {
          await race(calls);
        } catch (err) {
          findings.push({ kind: 'unexpected answer', request: p.name, detail: (err as Error).message.slice(0, 300) });
        }
      }
      await checkJob(t, job, p.name, findings);
    }
    // CancelJob on a CONTINUOUS job while things join and leave its group.
    const group = `${prefix}-gc`;
    const job = `${prefix}-jc`;
    const things = Array.from({ length: opts.trials }, (_, k) => `${prefix}-c-${k}`);
    await seedGroup(t, group, things.slice(0, Math.ceil(things.length / 2)));
    for (const thing of things.slice(Math.ceil(things.length / 2))) await t.iot.send(new DeleteThingCommand({ thingName: thing })).catch(() => undefined);
    await seedGroup(t, `${group}-spare`, things.slice(Math.ceil(things.length / 2)));
    await t.iot.send(new CreateJobCommand({ jobId: job, targets: [groupArn(group)], document: '{}', targetSelection: 'CONTINUOUS' }));
    const calls = [
      ...things.map((thing) => t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing }))),
      t.iot.send(new CancelJobCommand({ jobId: job })),
      ...things.map((thing) => devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing }))),
    ];
    sent += calls.length;
    try {
      await race(calls);
    } catch (err) {
      findings.push({ kind: 'unexpected answer', request: 'CancelJob / AddThingToThingGroup', detail: (err as Error).message.slice(0, 300) });
    }
    await checkJob(t, job, 'CancelJob / AddThingToThingGroup', findings);
    const { executionSummaries } = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: job, status: 'QUEUED' }));
    if ((executionSummaries ?? []).length > 0) findings.push({ kind: 'queued on a cancelled job', request: 'CancelJob / AddThingToThingGroup', detail: `${executionSummaries!.length} QUEUED executions` });
  } finally {
    devices.destroy();
  }
  return { sent, findings };
}
