import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AssociateTargetsWithJobCommand,
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  CreateJobTemplateCommand,
  DeleteJobCommand,
  DeleteJobExecutionCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  DescribeThingGroupCommand,
  GetJobDocumentCommand,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ListJobsCommand,
  ListTagsForResourceCommand,
  UpdateJobCommand,
} from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { counters, groupArn, jobArn, jobsDataClient, jobState, pickCounters, seedGroup, seedThing, thingArn } from '../support/jobs.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

/** DeleteJob finishes in the background; wait (bounded) until DescribeJob answers 404. */
async function waitUntilGone(t: TestServer, jobId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await t.iot.send(new DescribeJobCommand({ jobId }));
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return;
      throw err;
    }
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`job ${jobId} was not deleted`);
}

for (const backend of await testBackends()) {
  describe(`the IoT Jobs control plane (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let device: IoTJobsDataPlaneClient;
    const doc = '{"op":"x"}';

    before(async () => {
      t = await startTestServer(backend);
      device = jobsDataClient(t);
      await seedGroup(t, 'site', ['s1', 's2']);
      await seedGroup(t, 'site-east', ['s3', 's1'], 'site');
      await seedThing(t, 'lonely');
    });
    after(async () => {
      device?.destroy();
      await t?.close();
    });

    it('creates one execution per thing, groups expanded recursively, in target order', async () => {
      const created = await t.iot.send(new CreateJobCommand({
        jobId: 'fan', targets: [thingArn('lonely'), groupArn('site'), thingArn('s2')], document: doc,
        tags: [{ Key: 'team', Value: 'ops' }],
      }));
      assert.equal(created.jobArn, jobArn('fan'));
      assert.deepEqual(pickCounters(await jobState(t, 'fan')), counters({ queued: 4 }));
      const listed = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fan' }));
      assert.deepEqual(listed.executionSummaries?.map((e) => e.thingArn), ['lonely', 's1', 's2', 's3'].map(thingArn));
      for (const e of listed.executionSummaries!) {
        assert.equal(e.jobExecutionSummary?.status, 'QUEUED');
        assert.equal(e.jobExecutionSummary?.executionNumber, 1);
        assert.equal(e.jobExecutionSummary?.retryAttempt, 0);
        assert.ok(e.jobExecutionSummary?.queuedAt instanceof Date);
      }
      const execution = await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'fan', thingName: 's3' }));
      assert.equal(execution.execution?.thingArn, thingArn('s3'));
      assert.equal(execution.execution?.versionNumber, 1);
      assert.equal(execution.execution?.forceCanceled, false);
      const tags = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: jobArn('fan') }));
      assert.deepEqual(tags.tags, [{ Key: 'team', Value: 'ops' }]);

      const dup = await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'fan', targets: [thingArn('s1')], document: doc })), 'ResourceAlreadyExistsException', { status: 409 });
      assert.equal(dup.resourceId, 'fan');
      assert.equal(dup.resourceArn, jobArn('fan'));
    });

    it('creates no job when a target is missing or the request is malformed', async () => {
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'ghost', targets: [thingArn('s1'), thingArn('nobody')], document: doc })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'ghost', targets: [groupArn('nogroup')], document: doc })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'ghost', targets: ['arn:aws:iot:eu-west-1:123456789012:thing/s1'], document: doc })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new DescribeJobCommand({ jobId: 'ghost' })), 'ResourceNotFoundException', { message: 'Job ghost cannot be found.' });
      assert.equal((await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 's1' }))).executionSummaries?.some((e) => e.jobId === 'ghost'), false);

      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'bad id!', targets: [thingArn('s1')], document: doc })), 'InvalidRequestException', { status: 400, message: "at 'jobId'" });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'both', targets: [thingArn('s1')], document: doc, documentSource: 'https://s3.amazonaws.com/b/k' })), 'InvalidRequestException', { message: 'Job document and job document source cannot be specified at the same time.' });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'neither', targets: [thingArn('s1')] })), 'InvalidRequestException', { message: 'Neither job document nor job document source is specified.' });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'src', targets: [thingArn('s1')], documentSource: 'https://s3.amazonaws.com/no-such-bucket/k' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'notjson', targets: [thingArn('s1')], document: 'not json' })), 'InvalidRequestException');
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'sel', targets: [thingArn('s1')], document: doc, targetSelection: 'SOMETIMES' as never })), 'InvalidRequestException', { message: 'targetSelection' });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'many', targets: Array.from({ length: 101 }, () => thingArn('s1')), document: doc })), 'LimitExceededException', { status: 410 });
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'tagbad', targets: [thingArn('s1')], document: doc, tags: [{ Key: 'aws:x', Value: 'v' }] })), 'InvalidRequestException');
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'params', targets: [thingArn('s1')], document: doc, documentParameters: { a: 'b' } })), 'InvalidRequestException');
    });

    it('stores every config, answers DescribeJob with them, and creates scheduled jobs without executions', async () => {
      await t.iot.send(new CreateJobCommand({
        jobId: 'configured', targets: [thingArn('lonely')], document: doc, description: 'with configs',
        presignedUrlConfig: { roleArn: 'arn:aws:iam::123456789012:role/presign', expiresInSec: 600 },
        jobExecutionsRolloutConfig: { maximumPerMinute: 100, exponentialRate: { baseRatePerMinute: 10, incrementFactor: 1.5, rateIncreaseCriteria: { numberOfNotifiedThings: 5 } } },
        abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 20.5, minNumberOfExecutedThings: 3 }] },
        timeoutConfig: { inProgressTimeoutInMinutes: 60 },
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
      }));
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'configured' }));
      assert.equal(job?.description, 'with configs');
      assert.deepEqual(job?.presignedUrlConfig, { roleArn: 'arn:aws:iam::123456789012:role/presign', expiresInSec: 600 });
      assert.equal(job?.jobExecutionsRolloutConfig?.exponentialRate?.incrementFactor, 1.5);
      assert.equal(job?.abortConfig?.criteriaList?.[0].thresholdPercentage, 20.5);
      assert.deepEqual(job?.timeoutConfig, { inProgressTimeoutInMinutes: 60 });
      assert.deepEqual(job?.jobExecutionsRetryConfig, { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] });
      assert.deepEqual(job?.schedulingConfig, {});
      assert.equal(job?.isConcurrent, false);

      const start = new Date(t.clock.now() + 2 * 3600_000).toISOString().slice(0, 16);
      await t.iot.send(new CreateJobCommand({ jobId: 'later', targets: [thingArn('lonely')], document: doc, schedulingConfig: { startTime: start } }));
      const later = await jobState(t, 'later');
      assert.equal(later.status, 'SCHEDULED');
      assert.deepEqual(pickCounters(later), counters({}));
      await expectAwsError(t.iot.send(new CreateJobCommand({
        jobId: 'mw', targets: [thingArn('lonely')], document: doc, schedulingConfig: { maintenanceWindows: [{ startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 60 }] },
      })), 'InvalidRequestException', { message: 'MaintenanceWindow cannot be used with SNAPSHOT job' });
    });

    it('creates jobs from custom and AWS managed templates', async () => {
      await t.iot.send(new CreateJobTemplateCommand({
        jobTemplateId: 'tpl', description: 'template description', document: '{"op":"from-template"}',
        timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      }));
      const tplArn = `arn:aws:iot:us-east-1:123456789012:jobtemplate/tpl`;
      await t.iot.send(new CreateJobCommand({ jobId: 'from-tpl', targets: [thingArn('lonely')], jobTemplateArn: tplArn, abortConfig: undefined }));
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'from-tpl' }));
      assert.equal(job?.jobTemplateArn, tplArn);
      assert.deepEqual(job?.timeoutConfig, { inProgressTimeoutInMinutes: 30 });
      assert.equal(job?.description, undefined, 'a custom template does not hand down its description');
      assert.equal((await t.iot.send(new GetJobDocumentCommand({ jobId: 'from-tpl' }))).document, '{"op":"from-template"}');
      await t.iot.send(new CreateJobCommand({ jobId: 'tpl-override', targets: [thingArn('lonely')], jobTemplateArn: tplArn, document: '{"op":"mine"}', timeoutConfig: { inProgressTimeoutInMinutes: 5 } }));
      const override = await t.iot.send(new DescribeJobCommand({ jobId: 'tpl-override' }));
      assert.deepEqual(override.job?.timeoutConfig, { inProgressTimeoutInMinutes: 5 });
      assert.equal((await t.iot.send(new GetJobDocumentCommand({ jobId: 'tpl-override' }))).document, '{"op":"mine"}');
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'no-tpl', targets: [thingArn('lonely')], jobTemplateArn: `${tplArn}-missing` })), 'ResourceNotFoundException', { status: 404 });

      const managed = 'arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:1.0';
      await t.iot.send(new CreateJobCommand({
        jobId: 'download', targets: [thingArn('lonely')], jobTemplateArn: managed,
        documentParameters: { downloadUrl: 'https://example.com/f.bin', filePath: '/tmp/f.bin' },
      }));
      const d = await t.iot.send(new DescribeJobCommand({ jobId: 'download' }));
      assert.deepEqual(d.job?.documentParameters, { downloadUrl: 'https://example.com/f.bin', filePath: '/tmp/f.bin' });
      const resolved = (await t.iot.send(new GetJobDocumentCommand({ jobId: 'download' }))).document!;
      assert.match(resolved, /https:\/\/example\.com\/f\.bin/);
      assert.doesNotMatch(resolved, /aws:iot:parameter/);
      const raw = (await t.iot.send(new GetJobDocumentCommand({ jobId: 'download', beforeSubstitution: true }))).document!;
      assert.match(raw, /\$\{aws:iot:parameter:downloadUrl\}/);
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'download2', targets: [thingArn('lonely')], jobTemplateArn: managed, documentParameters: { filePath: '/tmp/x' } })), 'InvalidRequestException');
    });

    it('updates IN_PROGRESS jobs only, replacing members whole', async () => {
      await t.iot.send(new UpdateJobCommand({ jobId: 'configured', description: 'changed', timeoutConfig: { inProgressTimeoutInMinutes: 5 } }));
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'configured' }));
      assert.equal(job?.description, 'changed');
      assert.deepEqual(job?.timeoutConfig, { inProgressTimeoutInMinutes: 5 });
      await expectAwsError(t.iot.send(new UpdateJobCommand({ jobId: 'configured' })), 'InvalidRequestException', { message: 'Update Job request for job configured cannot be empty.' });
      await expectAwsError(t.iot.send(new UpdateJobCommand({ jobId: 'nope', description: 'x' })), 'ResourceNotFoundException', { status: 404, message: 'Job nope cannot be found.' });
      await expectAwsError(t.iot.send(new UpdateJobCommand({ jobId: 'configured', jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] } })), 'InvalidRequestException', { message: 'The number of retries cannot be updated to any number other than 0.' });
      await t.iot.send(new UpdateJobCommand({ jobId: 'configured', jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 0 }] } }));
      await expectAwsError(t.iot.send(new UpdateJobCommand({ jobId: 'later', description: 'x' })), 'InvalidRequestException', { message: 'Job later in status SCHEDULED cannot be updated.' });
    });

    it('cancels executions: QUEUED freely, IN_PROGRESS with force, versions checked', async () => {
      await t.iot.send(new CreateJobCommand({ jobId: 'exec-cancel', targets: [groupArn('site')], document: doc }));
      await device.send(new StartNextPendingJobExecutionCommand({ thingName: 's2' })); // fan is first for s2
      await device.send(new UpdateJobExecutionCommand({ thingName: 's2', jobId: 'exec-cancel', status: 'IN_PROGRESS' }));

      const conflict = await expectAwsError(t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's1', expectedVersion: 5 })), 'VersionConflictException', { status: 409 });
      assert.match(conflict.message, /found version 1/);
      await t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's1', expectedVersion: 1, statusDetails: { why: 'ops' } }));
      const s1 = await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's1' }));
      assert.equal(s1.execution?.status, 'CANCELED');
      assert.equal(s1.execution?.versionNumber, 2);
      assert.equal(s1.execution?.forceCanceled, false);
      assert.deepEqual(s1.execution?.statusDetails, { detailsMap: { why: 'ops' } });
      await expectAwsError(t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's1' })), 'InvalidStateTransitionException', { status: 409 });

      await expectAwsError(t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's2' })), 'InvalidStateTransitionException', { status: 409 });
      const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
      await expectAwsError(t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's2', force: true, statusDetails: tooMany })), 'InvalidRequestException', { status: 400 });
      await t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's2', force: true }));
      const s2 = await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'exec-cancel', thingName: 's2' }));
      assert.equal(s2.execution?.status, 'CANCELED');
      assert.equal(s2.execution?.forceCanceled, true);
      assert.equal(s2.execution?.versionNumber, 3);
      // The device can no longer report on a force-cancelled execution.
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 's2', jobId: 'exec-cancel', status: 'SUCCEEDED' })), 'InvalidStateTransitionException', { status: 409 });
      await expectAwsError(t.iot.send(new CancelJobExecutionCommand({ jobId: 'nope', thingName: 's2' })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new CancelJobExecutionCommand({ jobId: 'exec-cancel', thingName: 'lonely' })), 'ResourceNotFoundException');
      assert.deepEqual(pickCounters(await jobState(t, 'exec-cancel')), counters({ queued: 1, canceled: 2 }));
    });

    it('cancels jobs, with and without force', async () => {
      await seedGroup(t, 'cancel-grp', ['c1', 'c2', 'c3']);
      await t.iot.send(new CreateJobCommand({ jobId: 'to-cancel', targets: [groupArn('cancel-grp')], document: doc, description: 'd' }));
      await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'c1' }));
      await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'c2' }));
      await device.send(new UpdateJobExecutionCommand({ thingName: 'c2', jobId: 'to-cancel', status: 'SUCCEEDED' }));

      const out = await t.iot.send(new CancelJobCommand({ jobId: 'to-cancel', reasonCode: 'OPS_STOP', comment: 'stop it' }));
      assert.deepEqual({ jobArn: out.jobArn, jobId: out.jobId, description: out.description }, { jobArn: jobArn('to-cancel'), jobId: 'to-cancel', description: 'd' });
      let s = await jobState(t, 'to-cancel');
      assert.equal(s.status, 'CANCELED');
      assert.equal(s.completedAt, undefined);
      assert.deepEqual(pickCounters(s), counters({ inProgress: 1, succeeded: 1, canceled: 1 }));
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'to-cancel' }));
      assert.equal(job?.reasonCode, 'OPS_STOP');
      assert.equal(job?.comment, 'stop it');
      assert.equal(job?.forceCanceled, false);
      // The IN_PROGRESS execution survives a plain cancel; the device may still finish it.
      await device.send(new UpdateJobExecutionCommand({ thingName: 'c1', jobId: 'to-cancel', status: 'IN_PROGRESS' }));
      await expectAwsError(t.iot.send(new CancelJobCommand({ jobId: 'to-cancel' })), 'InvalidStateTransitionException', { status: 409 });

      // A forced cancel of a cancelled job takes the IN_PROGRESS ones too (§14 #11).
      await t.iot.send(new CancelJobCommand({ jobId: 'to-cancel', force: true }));
      s = await jobState(t, 'to-cancel');
      assert.deepEqual(pickCounters(s), counters({ succeeded: 1, canceled: 2 }));
      const c1 = await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'to-cancel', thingName: 'c1' }));
      assert.equal(c1.execution?.forceCanceled, true);
      assert.equal(c1.execution?.versionNumber, 4);
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'to-cancel' }))).job?.forceCanceled, true);
      await expectAwsError(t.iot.send(new CancelJobCommand({ jobId: 'to-cancel', reasonCode: 'lower case' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new CancelJobCommand({ jobId: 'nope' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('deletes jobs: terminal ones plainly, running ones only with force', async () => {
      await expectAwsError(t.iot.send(new DeleteJobCommand({ jobId: 'exec-cancel' })), 'InvalidStateTransitionException', { status: 409 });
      await expectAwsError(t.iot.send(new DeleteJobCommand({ jobId: 'later' })), 'InvalidStateTransitionException', { status: 409 });
      await t.iot.send(new DeleteJobCommand({ jobId: 'exec-cancel', force: true }));
      await waitUntilGone(t, 'exec-cancel');
      const forThing = await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 's3' }));
      assert.equal(forThing.executionSummaries?.some((e) => e.jobId === 'exec-cancel'), false);
      await expectAwsError(t.iot.send(new GetJobDocumentCommand({ jobId: 'exec-cancel' })), 'ResourceNotFoundException');

      await t.iot.send(new DeleteJobCommand({ jobId: 'to-cancel' }));
      await waitUntilGone(t, 'to-cancel');
      await expectAwsError(t.iot.send(new DeleteJobCommand({ jobId: 'to-cancel' })), 'ResourceNotFoundException', { status: 404 });
      // The id can be used again.
      await t.iot.send(new CreateJobCommand({ jobId: 'to-cancel', targets: [thingArn('c3')], document: doc }));
      assert.deepEqual(pickCounters(await jobState(t, 'to-cancel')), counters({ queued: 1 }));
    });

    it('deletes single executions: QUEUED or terminal without force, IN_PROGRESS only with force', async () => {
      t.clock.advance(1000);
      await t.iot.send(new CreateJobCommand({ jobId: 'del-exec', targets: [thingArn('c1'), thingArn('c2')], document: doc }));
      await device.send(new UpdateJobExecutionCommand({ thingName: 'c2', jobId: 'del-exec', status: 'IN_PROGRESS' }));
      await expectAwsError(t.iot.send(new DeleteJobExecutionCommand({ jobId: 'del-exec', thingName: 'c2', executionNumber: 1 })), 'InvalidStateTransitionException', { status: 409 });
      await expectAwsError(t.iot.send(new DeleteJobExecutionCommand({ jobId: 'del-exec', thingName: 'c2', executionNumber: 9 })), 'ResourceNotFoundException', { status: 404 });
      await t.iot.send(new DeleteJobExecutionCommand({ jobId: 'del-exec', thingName: 'c1', executionNumber: 1 }));
      assert.deepEqual(pickCounters(await jobState(t, 'del-exec')), counters({ inProgress: 1 }));
      await t.iot.send(new DeleteJobExecutionCommand({ jobId: 'del-exec', thingName: 'c2', executionNumber: 1, force: true }));
      const s = await jobState(t, 'del-exec');
      assert.deepEqual(pickCounters(s), counters({}));
      assert.equal(s.status, 'COMPLETED', 'a SNAPSHOT job with nothing left pending is complete');
      await expectAwsError(t.iot.send(new DescribeJobExecutionCommand({ jobId: 'del-exec', thingName: 'c2' })), 'ResourceNotFoundException');
    });

    it('lists jobs newest first with filters and pages', async () => {
      const all = await t.iot.send(new ListJobsCommand({}));
      const ids = all.jobs!.map((j) => j.jobId);
      assert.equal(ids[0], 'del-exec');
      assert.ok(ids.includes('fan') && ids.includes('later'));
      const fan = all.jobs!.find((j) => j.jobId === 'fan')!;
      const site = await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'site' }));
      assert.equal(fan.thingGroupId, site.thingGroupId);
      assert.equal(fan.jobArn, jobArn('fan'));
      assert.ok(fan.createdAt instanceof Date);

      const byGroup = await t.iot.send(new ListJobsCommand({ thingGroupName: 'site' }));
      assert.deepEqual(byGroup.jobs!.map((j) => j.jobId).sort(), ['fan']);
      const byGroupId = await t.iot.send(new ListJobsCommand({ thingGroupId: site.thingGroupId }));
      assert.deepEqual(byGroupId.jobs!.map((j) => j.jobId), ['fan']);
      const scheduled = await t.iot.send(new ListJobsCommand({ status: 'SCHEDULED' }));
      assert.deepEqual(scheduled.jobs!.map((j) => j.jobId), ['later']);
      const continuous = await t.iot.send(new ListJobsCommand({ targetSelection: 'CONTINUOUS' }));
      assert.deepEqual(continuous.jobs, []);

      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const p = await t.iot.send(new ListJobsCommand({ maxResults: 2, nextToken }));
        assert.ok(p.jobs!.length <= 2);
        seen.push(...p.jobs!.map((j) => j.jobId!));
        nextToken = p.nextToken;
        pages++;
      } while (nextToken);
      assert.deepEqual(seen, ids);
      assert.equal(pages, Math.ceil(ids.length / 2));
      await expectAwsError(t.iot.send(new ListJobsCommand({ maxResults: 0 })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new ListJobsCommand({ maxResults: 251 })), 'InvalidRequestException', { message: 'less than or equal to 250' });
      await expectAwsError(t.iot.send(new ListJobsCommand({ nextToken: 'garbage' })), 'InvalidRequestException', { message: 'Next token is invalid.' });
      await expectAwsError(t.iot.send(new ListJobsCommand({ status: 'RUNNING' as never })), 'InvalidRequestException');
    });

    it('lists executions per job and per thing with status filters and pages', async () => {
      const page1 = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fan', maxResults: 3 }));
      assert.equal(page1.executionSummaries?.length, 3);
      const page2 = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fan', maxResults: 3, nextToken: page1.nextToken }));
      assert.equal(page2.executionSummaries?.length, 1);
      assert.equal(page2.nextToken, undefined);
      const queued = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fan', status: 'QUEUED' }));
      const inProgress = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fan', status: 'IN_PROGRESS' }));
      assert.deepEqual(inProgress.executionSummaries?.map((e) => e.thingArn), [thingArn('s2')]);
      assert.equal(queued.executionSummaries?.length, 3);
      await expectAwsError(t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'nope' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fan', nextToken: page1.nextToken, status: 'QUEUED' })), 'InvalidRequestException', { message: 'Next token is invalid.' });

      const s2 = await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 's2' }));
      assert.deepEqual(s2.executionSummaries?.map((e) => e.jobId), ['fan'], 'newest first, deleted jobs gone');
      const c3 = await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'c3', status: 'QUEUED' }));
      assert.deepEqual(c3.executionSummaries?.map((e) => e.jobId), ['to-cancel']);
      const whole = (await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'lonely' }))).executionSummaries!.map((e) => e.jobId);
      assert.deepEqual(whole, ['download', 'tpl-override', 'from-tpl', 'configured', 'fan'], 'newest first');
      const paged: string[] = [];
      let nextToken: string | undefined;
      do {
        const p = await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'lonely', maxResults: 2, nextToken }));
        paged.push(...p.executionSummaries!.map((e) => e.jobId!));
        nextToken = p.nextToken;
      } while (nextToken);
      assert.deepEqual(paged, whole);
    });

    it('associates more targets with CONTINUOUS jobs only', async () => {
      await expectAwsError(t.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'fan', targets: [groupArn('cancel-grp')] })), 'InvalidRequestException', { status: 400 });
      await t.iot.send(new CreateJobCommand({ jobId: 'cont', targets: [groupArn('site-east')], document: doc, targetSelection: 'CONTINUOUS' }));
      assert.deepEqual(pickCounters(await jobState(t, 'cont')), counters({ queued: 2 }));
      const out = await t.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'cont', targets: [groupArn('site'), groupArn('cancel-grp')], comment: 'more' }));
      assert.equal(out.jobArn, jobArn('cont'));
      // site adds s2 (s1, s3 already have executions); cancel-grp adds c1, c2, c3.
      assert.deepEqual(pickCounters(await jobState(t, 'cont')), counters({ queued: 6 }));
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'cont' }));
      assert.deepEqual(job?.targets, [groupArn('site-east'), groupArn('site'), groupArn('cancel-grp')]);
      assert.equal(job?.comment, 'more');
      await expectAwsError(t.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'cont', targets: [groupArn('missing')] })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'nope', targets: [groupArn('site')] })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new AssociateTargetsWithJobCommand({
        jobId: 'cont', targets: Array.from({ length: 98 }, (_, i) => groupArn(`x${i}`)),
      })), 'LimitExceededException', { status: 410 });
      // It associates thing groups, never single things.
      await expectAwsError(t.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'cont', targets: [groupArn('site'), thingArn('lonely')] })), 'InvalidRequestException', {
        status: 400,
        message: `AssociateTargetsWithJob takes thing group ARNs only; ${thingArn('lonely')} is a thing.`,
      });
      assert.deepEqual((await t.iot.send(new DescribeJobCommand({ jobId: 'cont' }))).job?.targets, [groupArn('site-east'), groupArn('site'), groupArn('cancel-grp')]);
    });
  });
}
