import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateThingCommand, DescribeThingCommand, ListJobsCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { GetPendingJobExecutionsCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { GetThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { VirtualClock } from '../../src/clock.js';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { jobsDataClient } from '../support/jobs.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetjobs-throttle-'));
const ratesFile = (doc: unknown) => {
  const path = join(dir, `rates-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
};

describe('--throttle settings', () => {
  const resolve = (value: string) => resolveConfig({ throttle: value, port: 0, dataDir: dir }, {});
  it('is off by default, and off and aws are named values', () => {
    assert.equal(resolveConfig({ port: 0, dataDir: dir }, {}).throttle, undefined);
    assert.equal(resolve('off').throttle, undefined);
    const aws = resolve('aws').throttle!;
    assert.equal(aws.source, 'aws');
    assert.deepEqual(aws.limits.find((l) => l.operations.includes('CreateJob')), { api: 'iot', operations: ['CreateJob'], perSecond: 10, burst: 10 });
    assert.deepEqual(aws.limits.find((l) => l.api === 'iot-jobs-data' && l.operations.includes('UpdateJobExecution'))?.operations, ['StartNextPendingJobExecution', 'UpdateJobExecution']);
    assert.equal(resolveConfig({ port: 0, dataDir: dir }, { FLEETJOBS_THROTTLE: 'aws' }).throttle?.source, 'aws');
  });

  it('reads a rates file, burst defaulting to the rate', () => {
    const t = resolve(ratesFile({ limits: [{ api: 'iot', operations: ['CreateThing', 'DeleteThing'], perSecond: 2.5 }] })).throttle!;
    assert.deepEqual(t, { source: 'file', limits: [{ api: 'iot', operations: ['CreateThing', 'DeleteThing'], perSecond: 2.5, burst: 2.5 }] });
  });

  const refused: [string, unknown, RegExp][] = [
    ['a missing file', undefined, /neither off, aws nor a readable file \(ENOENT\)/],
    ['not JSON', '{limits:', /not valid JSON/],
    ['no limits array', { limits: {} }, /"limits" must be an array/],
    ['an unknown member', { limits: [], rate: 1 }, /"rate" is no known member/],
    ['an unknown API', { limits: [{ api: 's3', operations: ['GetObject'], perSecond: 1 }] }, /limits\[0\]\.api must be one of iot, iot-jobs-data, iotdata/],
    ['a zero rate', { limits: [{ api: 'iot', operations: ['ListJobs'], perSecond: 0 }] }, /limits\[0\]\.perSecond must be a number above 0/],
    ['a burst below one', { limits: [{ api: 'iot', operations: ['ListJobs'], perSecond: 1, burst: 0.5 }] }, /limits\[0\]\.burst must be at least 1/],
    ['an operation twice', { limits: [{ api: 'iot', operations: ['ListJobs'], perSecond: 1 }, { api: 'iot', operations: ['ListJobs'], perSecond: 2 }] }, /limits\[1\]\.operations\[0\] names iot ListJobs, which another limit already holds/],
    ['no operations', { limits: [{ api: 'iot', operations: [], perSecond: 1 }] }, /limits\[0\]\.operations must be a non-empty array/],
  ];
  for (const [what, doc, message] of refused) {
    it(`refuses ${what} with the place of the problem`, () => {
      const path = doc === undefined ? join(dir, 'absent.json') : ratesFile(doc);
      assert.throws(() => resolve(path), (err: Error) => err instanceof ConfigError && message.test(err.message) && err.message.includes(path));
    });
  }
});

for (const backend of await testBackends()) {
  describe(`throttling (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const rateClock = new VirtualClock(Date.now());
    before(async () => {
      const file = ratesFile({
        limits: [
          { api: 'iot', operations: ['CreateThing'], perSecond: 1, burst: 2 },
          { api: 'iot', operations: ['ListThings', 'DescribeThing'], perSecond: 1, burst: 3 },
          { api: 'iot-jobs-data', operations: ['GetPendingJobExecutions'], perSecond: 1 },
          { api: 'iotdata', operations: ['GetThingShadow'], perSecond: 1 },
        ],
      });
      t = await startTestServer(backend, { rateClock }, { FLEETJOBS_THROTTLE: file });
    });
    after(async () => t?.close());

    it('answers ThrottlingException 400 on the control plane beyond the burst, and a refused request creates nothing', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'th-1' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'th-2' }));
      const err = await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'th-3' })), 'ThrottlingException', { status: 400, message: 'Rate exceeded' });
      assert.equal(err.$metadata?.httpStatusCode, 400);
      // Operations outside every limit are never throttled.
      for (let i = 0; i < 20; i++) await t.iot.send(new ListJobsCommand({}));
      rateClock.advance(1000);
      await expectAwsError(t.iot.send(new DescribeThingCommand({ thingName: 'th-3' })), 'ResourceNotFoundException');
      await t.iot.send(new CreateThingCommand({ thingName: 'th-3' }));
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'th-4' })), 'ThrottlingException');
    });

    it('shares one bucket between the operations of a limit, refilled at its rate', async () => {
      rateClock.advance(10_000);
      await t.iot.send(new ListThingsCommand({}));
      await t.iot.send(new DescribeThingCommand({ thingName: 'th-1' }));
      await t.iot.send(new ListThingsCommand({}));
      await expectAwsError(t.iot.send(new DescribeThingCommand({ thingName: 'th-1' })), 'ThrottlingException');
      rateClock.advance(999);
      await expectAwsError(t.iot.send(new ListThingsCommand({})), 'ThrottlingException');
      rateClock.advance(1);
      await t.iot.send(new ListThingsCommand({}));
    });

    it('answers ThrottlingException 429 on the jobs data plane and the shadow plane', async () => {
      const jobs = jobsDataClient(t);
      const shadows = iotDataClient(t);
      try {
        await jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'th-1' }));
        await expectAwsError(jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'th-1' })), 'ThrottlingException', { status: 429 });
        await expectAwsError(shadows.send(new GetThingShadowCommand({ thingName: 'th-1' })), 'ResourceNotFoundException');
        await expectAwsError(shadows.send(new GetThingShadowCommand({ thingName: 'th-1' })), 'ThrottlingException', { status: 429 });
      } finally {
        jobs.destroy();
        shadows.destroy();
      }
    });
  });

  describe(`--throttle aws (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const rateClock = new VirtualClock(Date.now());
    before(async () => {
      t = await startTestServer(backend, { rateClock }, { FLEETJOBS_THROTTLE: 'aws' });
    });
    after(async () => t?.close());

    it('allows ListJobs 10 requests a second, as AWS documents, and leaves unlisted operations alone', async () => {
      for (let i = 0; i < 10; i++) await t.iot.send(new ListJobsCommand({}));
      await expectAwsError(t.iot.send(new ListJobsCommand({})), 'ThrottlingException', { status: 400 });
      for (let i = 0; i < 15; i++) await t.iot.send(new ListThingsCommand({}));
      rateClock.advance(100);
      await t.iot.send(new ListJobsCommand({}));
      await expectAwsError(t.iot.send(new ListJobsCommand({})), 'ThrottlingException');
    });
  });

  describe(`throttling at start (${backend.name})`, { skip: backend.skip }, () => {
    it('refuses to start with a rates file naming no operation the server serves', async () => {
      const file = ratesFile({ limits: [{ api: 'iot', operations: ['CreateThingz'], perSecond: 1 }] });
      await assert.rejects(startTestServer(backend, {}, { FLEETJOBS_THROTTLE: file }), (err: Error) => err instanceof ConfigError && err.message === '--throttle: no such operation: iot CreateThingz');
    });
  });
}
