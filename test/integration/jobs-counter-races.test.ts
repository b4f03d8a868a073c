import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  DeleteJobExecutionCommand,
  ListJobExecutionsForJobCommand,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { sql } from 'kysely';
import { POSTGRES_URL, testBackends } from '../support/backends.js';
import { groupArn, jobState, jobsDataClient, pickCounters, seedGroup } from '../support/jobs.js';
import { assertCountersExact, countedExecutions, race } from '../support/races.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { fleetjobsCommand } from '../support/serve-process.js';

const N = 40;

const things = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

/** `fleetjobs check` in a child process against the test server's database. */
function runCheck(t: TestServer, backendName: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const storage = backendName === 'postgres'
    ? ['--database-url', `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${t.schema}`)}`]
    : ['--data-dir', t.dataDir];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...fleetjobsCommand(), 'check', ...storage, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/**
 * Issue 8, item 5: pairs of calls racing on the same executions. Every transition is a
 * compare-and-set, so counters equal a count of the executions by status afterwards, and a
 * SNAPSHOT job with nothing pending completes. The drift showed on PostgreSQL.
 */
for (const backend of await testBackends()) {
  describe(`job counters under racing calls (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      devices = jobsDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      await t?.close();
    });

    it('RemoveThingFromThingGroup against StartNext on a CONTINUOUS job', async () => {
      const names = things('rm');
      await seedGroup(t, 'race-rm', names);
      await t.iot.send(new CreateJobCommand({ jobId: 'cont-rm', targets: [groupArn('race-rm')], document: '{}', targetSelection: 'CONTINUOUS' }));
      // One pair at a time, each a trial of its own, as the probe ran them.
      for (const thingName of names) {
        await race([
          devices.send(new StartNextPendingJobExecutionCommand({ thingName })),
          t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'race-rm', thingName })),
        ]);
      }
      await assertCountersExact(t, 'cont-rm');
      // A device that was told IN_PROGRESS really is: its execution takes its update.
      const { executionSummaries } = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'cont-rm', status: 'IN_PROGRESS' }));
      for (const s of executionSummaries ?? []) {
        await devices.send(new UpdateJobExecutionCommand({ thingName: s.thingArn!.split('/').pop()!, jobId: 'cont-rm', status: 'SUCCEEDED' }));
      }
      await assertCountersExact(t, 'cont-rm');
    });

    it('DeleteJobExecution(force) against StartNext on a SNAPSHOT job, which then completes', async () => {
      const names = things('del');
      await seedGroup(t, 'race-del', names);
      await t.iot.send(new CreateJobCommand({ jobId: 'snap-del', targets: [groupArn('race-del')], document: '{}' }));
      await race(names.flatMap((thingName) => [
        t.iot.send(new DeleteJobExecutionCommand({ jobId: 'snap-del', thingName, executionNumber: 1, force: true })),
        devices.send(new StartNextPendingJobExecutionCommand({ thingName })),
      ]));
      await assertCountersExact(t, 'snap-del');
      assert.equal((await jobState(t, 'snap-del')).status, 'COMPLETED');
    });

    it('DeleteJobExecution against CancelJobExecution', async () => {
      const names = things('cancel');
      await seedGroup(t, 'race-cancel', names);
      await t.iot.send(new CreateJobCommand({ jobId: 'snap-cancel', targets: [groupArn('race-cancel')], document: '{}' }));
      for (const thingName of names) {
        await race([
          t.iot.send(new CancelJobExecutionCommand({ jobId: 'snap-cancel', thingName })),
          t.iot.send(new DeleteJobExecutionCommand({ jobId: 'snap-cancel', thingName, executionNumber: 1 })),
        ]);
      }
      await assertCountersExact(t, 'snap-cancel');
    });

    it('membership churn against devices on a CONTINUOUS job', async () => {
      const names = things('churn');
      await seedGroup(t, 'race-churn', names);
      await t.iot.send(new CreateJobCommand({ jobId: 'cont-churn', targets: [groupArn('race-churn')], document: '{}', targetSelection: 'CONTINUOUS' }));
      for (let round = 0; round < 3; round++) {
        await race(names.flatMap((thingName) => [
          t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'race-churn', thingName })),
          devices.send(new StartNextPendingJobExecutionCommand({ thingName })),
          t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'race-churn', thingName })),
        ]));
        await assertCountersExact(t, 'cont-churn');
      }
    });

    it('fleetjobs check reports counters that disagree, and --repair recomputes them', async () => {
      let res = await runCheck(t, backend.name);
      assert.equal(res.code, 0, res.out);
      assert.match(res.out, /all \d+ jobs agree with their executions/);

      // Damage two jobs the way the old races did: counters off, and a SNAPSHOT job left open.
      await sql`update jobs set n_queued = n_queued - 39, n_in_progress = n_in_progress + 39 where job_id = 'cont-rm'`.execute(t.server.store.db);
      await sql`update jobs set status = 'IN_PROGRESS', completed_at = null, n_in_progress = 1 where job_id = 'snap-del'`.execute(t.server.store.db);
      res = await runCheck(t, backend.name);
      assert.equal(res.code, 1, res.out);
      assert.match(res.out, /job cont-rm \(IN_PROGRESS\): numberOfQueuedThings is -?\d+ but \d+ executions? says? so; numberOfInProgressThings is \d+/);
      assert.match(res.out, /job snap-del \(IN_PROGRESS\): numberOfInProgressThings is 1 but 0 executions say so; a SNAPSHOT job IN_PROGRESS with no pending execution/);
      assert.match(res.out, /2 of \d+ jobs disagree/);
      assert.notEqual(JSON.stringify(pickCounters(await jobState(t, 'cont-rm'))), JSON.stringify(await countedExecutions(t, 'cont-rm')));

      res = await runCheck(t, backend.name, '--repair');
      assert.equal(res.code, 1, res.out);
      assert.match(res.out, /repaired job cont-rm/);
      assert.match(res.out, /repaired job snap-del/);
      await assertCountersExact(t, 'cont-rm');
      await assertCountersExact(t, 'snap-del');
      assert.equal((await jobState(t, 'snap-del')).status, 'COMPLETED');
      res = await runCheck(t, backend.name);
      assert.equal(res.code, 0, res.out);
    });
  });
}
