import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreateThingGroupCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { FleetProcess, FleetStorage, maxPerMinute } from '../support/fleet-process.js';
import { groupArn } from '../support/jobs.js';

const THINGS = 10_000;
const MINUTE = 60_000;

/**
 * Issue 10, item 7: SIGKILL the server in the middle of a 10,000-device rollout and restart it on
 * the same storage. No execution is lost, none is released twice, the pace still holds, and the
 * counters are exact. The server runs in test mode, so minutes of rollout pass at the clock
 * endpoint's command, and it is killed while the engine is releasing.
 */
for (const backend of await testBackends()) {
  describe(`rollout engine across SIGKILL (${backend.name})`, { skip: backend.skip }, () => {
    let storage: FleetStorage;
    let node: FleetProcess | undefined;
    before(async () => {
      storage = await FleetStorage.create(backend);
    });
    after(async () => {
      node?.kill();
      await storage?.destroy();
    });

    it('loses nothing, releases nothing twice and keeps the pace across three kills', async () => {
      node = await FleetProcess.start(storage);
      let clock = await node.clock({ freeze: true });
      await node.iot.send(new CreateThingGroupCommand({ thingGroupName: 'crash-fleet' }));
      await storage.seedThings('crash-fleet', 'crash', THINGS, Date.parse(clock.now));
      await node.iot.send(new CreateJobCommand({ jobId: 'crash', targets: [groupArn('crash-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 1000 } }));
      clock = await node.clock({ advanceSeconds: 60 });

      for (let kill = 0; kill < 3; kill++) {
        // An advance sets the engine releasing the next minute's burst; the kill lands in it.
        const advancing = node.clock({ advanceSeconds: 120 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 5 + kill * 7));
        node.kill();
        await advancing;
        await node.proc.exited;
        // Restart on the same storage, the clock where the interrupted advance was heading (a
        // lease taken by the dead node lapses within the next minute).
        node = await FleetProcess.start(storage);
        await node.clock({ set: new Date(Date.parse(clock.now) + 2 * MINUTE).toISOString() });
        clock = await node.clock({ advanceSeconds: 60 });
      }
      // Run the rollout to its end.
      for (let i = 0; i < 12; i++) clock = await node.clock({ advanceSeconds: 60 });

      const executions = await node.executions('crash');
      assert.equal(executions.length, THINGS, 'every target released');
      assert.equal(new Set(executions.map((e) => e.thing)).size, THINGS, 'no thing released twice');
      assert.ok(executions.every((e) => e.n === 1 && e.status === 'QUEUED'));
      assert.ok(maxPerMinute(executions.map((e) => e.queuedAt)) <= 1000, `the pace held: at most ${maxPerMinute(executions.map((e) => e.queuedAt))} in a minute`);
      const { job } = await node.iot.send(new DescribeJobCommand({ jobId: 'crash' }));
      assert.equal(job?.jobProcessDetails?.numberOfQueuedThings, THINGS, 'the counters are exact');
      assert.equal(job?.isConcurrent, false);
    });
  });
}
