import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CancelJobCommand,
  CreateJobCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageVersionCommand,
  DescribeJobCommand,
  GetJobDocumentCommand,
  GetPackageVersionCommand,
  UpdatePackageCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { GetThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import {
  DescribeJobExecutionCommand,
  GetPendingJobExecutionsCommand,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
  type IoTJobsDataPlaneClient,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { decodeShadow, iotDataClient } from '../support/iot-data.js';
import { putTestObject } from '../support/s3.js';
import { counters, groupArn, jobsDataClient, jobState, packageVersionArn, pickCounters, seedGroup } from '../support/jobs.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const ROLE = 'arn:aws:iam::123456789012:role/aws-iot-role-update-shadows';

for (const backend of await testBackends()) {
  describe(`a package rollout through IoT Jobs over HTTPS (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    let shadows: IoTDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      devices = jobsDataClient(t);
      shadows = iotDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      shadows?.destroy();
      await t?.close();
    });

    it('deploys the default version to every thing of a group and records it in $package', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'agent' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'agent', versionName: '1.2.0', attributes: { channel: 'stable', sha: 'abc' } }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'agent', versionName: '1.2.0', action: 'PUBLISH' }));
      await t.iot.send(new UpdatePackageCommand({ packageName: 'agent', defaultVersionName: '1.2.0' }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: ROLE } }));
      await seedGroup(t, 'fleet', ['dev-1', 'dev-2', 'dev-3']);

      const rawDocument = JSON.stringify({
        operation: 'install',
        channel: '${aws:iot:package:agent:version:$default:attributes:channel}',
        attributes: '${aws:iot:package:agent:version:$default:attributes}',
      });
      const created = await t.iot.send(new CreateJobCommand({
        jobId: 'install-agent',
        targets: [groupArn('fleet')],
        document: rawDocument,
        description: 'agent 1.2.0',
        destinationPackageVersions: [packageVersionArn('agent', '$default')],
      }));
      assert.equal(created.jobArn, 'arn:aws:iot:us-east-1:123456789012:job/install-agent');
      assert.equal(created.description, 'agent 1.2.0');

      const described = await t.iot.send(new DescribeJobCommand({ jobId: 'install-agent' }));
      assert.equal(described.job!.status, 'IN_PROGRESS');
      assert.equal(described.job!.targetSelection, 'SNAPSHOT');
      assert.deepEqual(described.job!.destinationPackageVersions, [packageVersionArn('agent', '1.2.0')]);
      assert.deepEqual(described.job!.timeoutConfig, {});
      assert.ok(described.job!.createdAt instanceof Date);
      const raw = await t.iot.send(new DescribeJobCommand({ jobId: 'install-agent', beforeSubstitution: true }));
      assert.deepEqual(raw.job!.destinationPackageVersions, [packageVersionArn('agent', '$default')]);

      const resolvedDoc = JSON.parse((await t.iot.send(new GetJobDocumentCommand({ jobId: 'install-agent' }))).document!);
      assert.deepEqual(resolvedDoc, { operation: 'install', channel: 'stable', attributes: { channel: 'stable', sha: 'abc' } });
      assert.equal((await t.iot.send(new GetJobDocumentCommand({ jobId: 'install-agent', beforeSubstitution: true }))).document, rawDocument);

      assert.deepEqual(pickCounters(await jobState(t, 'install-agent')), counters({ queued: 3 }));

      for (const [i, thing] of ['dev-1', 'dev-2', 'dev-3'].entries()) {
        const pending = await devices.send(new GetPendingJobExecutionsCommand({ thingName: thing }));
        assert.equal(pending.queuedJobs?.length, 1);
        assert.equal(pending.queuedJobs![0].jobId, 'install-agent');
        assert.equal(pending.queuedJobs![0].versionNumber, 1);
        assert.equal(pending.queuedJobs![0].executionNumber, 1);
        assert.ok(Number.isInteger(pending.queuedJobs![0].queuedAt), 'data-plane timestamps are whole seconds');
        assert.equal(pending.queuedJobs![0].queuedAt, Math.floor(t.clock.now() / 1000));

        const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing, statusDetails: { step: 'download' } }));
        assert.equal(started.execution?.status, 'IN_PROGRESS');
        assert.equal(started.execution?.versionNumber, 2);
        assert.deepEqual(started.execution?.statusDetails, { step: 'download' });
        assert.equal(typeof started.execution?.jobDocument, 'string');
        assert.deepEqual(JSON.parse(started.execution!.jobDocument!), resolvedDoc);
        assert.deepEqual(pickCounters(await jobState(t, 'install-agent')), counters({ queued: 2 - i, inProgress: 1, succeeded: i }));

        const done = await devices.send(new UpdateJobExecutionCommand({
          thingName: thing, jobId: 'install-agent', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true,
        }));
        assert.deepEqual(done.executionState, { status: 'SUCCEEDED', statusDetails: { step: 'download' }, versionNumber: 3 });
        assert.equal(done.jobDocument, undefined);
      }

      const final = await jobState(t, 'install-agent');
      assert.deepEqual(pickCounters(final), counters({ succeeded: 3 }));
      assert.equal(final.status, 'COMPLETED');
      assert.ok(final.completedAt instanceof Date);

      for (const thing of ['dev-1', 'dev-2', 'dev-3']) {
        const shadow = decodeShadow((await shadows.send(new GetThingShadowCommand({ thingName: thing, shadowName: '$package' }))).payload);
        assert.deepEqual(shadow.state.reported, { agent: { version: '1.2.0' } });
        const execution = await devices.send(new DescribeJobExecutionCommand({ thingName: thing, jobId: 'install-agent', includeJobDocument: false }));
        assert.equal(execution.execution?.status, 'SUCCEEDED');
        assert.equal(execution.execution?.jobDocument, undefined);
        assert.equal(execution.execution?.approximateSecondsBeforeTimedOut, undefined);
      }
    });

    it('uninstalls with $null, and still succeeds when the deployed version was deleted meanwhile', async () => {
      await t.iot.send(new CreateJobCommand({
        jobId: 'remove-agent', targets: [groupArn('fleet')], document: '{"operation":"remove"}',
        destinationPackageVersions: [packageVersionArn('agent', '$null')],
      }));
      await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'dev-1' }));
      await devices.send(new UpdateJobExecutionCommand({ thingName: 'dev-1', jobId: 'remove-agent', status: 'SUCCEEDED' }));
      const shadow = decodeShadow((await shadows.send(new GetThingShadowCommand({ thingName: 'dev-1', shadowName: '$package' }))).payload);
      assert.deepEqual(shadow.state.reported ?? {}, {});

      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'agent', versionName: '1.3.0' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'agent', versionName: '1.3.0', action: 'PUBLISH' }));
      await t.iot.send(new CreateJobCommand({
        jobId: 'agent-130', targets: [groupArn('fleet')], document: '{"operation":"install"}',
        destinationPackageVersions: [packageVersionArn('agent', '1.3.0')],
      }));
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'agent', versionName: '1.3.0' }));
      // dev-2 still has remove-agent queued first; finish it, then the next one.
      await devices.send(new UpdateJobExecutionCommand({ thingName: 'dev-2', jobId: 'remove-agent', status: 'FAILED' }));
      const next = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'dev-2' }));
      assert.equal(next.execution?.jobId, 'agent-130');
      const done = await devices.send(new UpdateJobExecutionCommand({ thingName: 'dev-2', jobId: 'agent-130', status: 'SUCCEEDED', includeJobExecutionState: true }));
      assert.equal(done.executionState?.status, 'SUCCEEDED');
      const shadow2 = decodeShadow((await shadows.send(new GetThingShadowCommand({ thingName: 'dev-2', shadowName: '$package' }))).payload);
      assert.deepEqual(shadow2.state.reported, { agent: { version: '1.2.0' } }, 'the deleted version is not recorded');
    });

    it('refuses destination versions that cannot be deployed', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'agent', versionName: '2.0.0-draft' }));
      await expectAwsError(t.iot.send(new CreateJobCommand({
        jobId: 'draft-deploy', targets: [groupArn('fleet')], document: '{}', destinationPackageVersions: [packageVersionArn('agent', '2.0.0-draft')],
      })), 'InvalidRequestException', { status: 400, message: 'DRAFT' });
      await expectAwsError(t.iot.send(new CreateJobCommand({
        jobId: 'missing-deploy', targets: [groupArn('fleet')], document: '{}', destinationPackageVersions: [packageVersionArn('agent', '9.9.9')],
      })), 'InvalidRequestException');
      await t.iot.send(new CreatePackageCommand({ packageName: 'nodefault' }));
      await expectAwsError(t.iot.send(new CreateJobCommand({
        jobId: 'nodefault-deploy', targets: [groupArn('fleet')], document: '{}', destinationPackageVersions: [packageVersionArn('nodefault', '$default')],
      })), 'InvalidRequestException', { message: 'default version' });
      await expectAwsError(t.iot.send(new CreateJobCommand({
        jobId: 'too-many', targets: [groupArn('fleet')], document: '{}',
        destinationPackageVersions: Array.from({ length: 26 }, (_, i) => packageVersionArn(`p${i}`, '1')),
      })), 'InvalidRequestException', { message: 'length less than or equal to 25' });
      await expectAwsError(t.iot.send(new DescribeJobCommand({ jobId: 'draft-deploy' })), 'ResourceNotFoundException', { message: 'Job draft-deploy cannot be found.' });
    });

    it("freezes a version's recipe while a job deploys it", async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'recipes' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'recipes', versionName: '1.0', recipe: 'install --quiet' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'recipes', versionName: '1.0', action: 'PUBLISH' }));
      // Published and not deployed: the recipe may still change.
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'recipes', versionName: '1.0', recipe: 'install --quiet --verify' }));
      await seedGroup(t, 'recipe-fleet', ['rc-1']);
      await t.iot.send(new CreateJobCommand({
        jobId: 'recipe-deploy', targets: [groupArn('recipe-fleet')], document: '{}', destinationPackageVersions: [packageVersionArn('recipes', '1.0')],
      }));

      await expectAwsError(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'recipes', versionName: '1.0', recipe: 'install --force' })), 'ConflictException', {
        status: 409, message: 'The recipe of package recipes version 1.0 cannot change while job recipe-deploy deploys it.',
      });
      // Other edits, and sending the recipe unchanged, still go through.
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'recipes', versionName: '1.0', description: 'rolling out', recipe: 'install --quiet --verify' }));
      const during = await t.iot.send(new GetPackageVersionCommand({ packageName: 'recipes', versionName: '1.0' }));
      assert.equal(during.recipe, 'install --quiet --verify');
      assert.equal(during.description, 'rolling out');

      await t.iot.send(new CancelJobCommand({ jobId: 'recipe-deploy' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'recipes', versionName: '1.0', recipe: 'install --force' }));
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'recipes', versionName: '1.0' }))).recipe, 'install --force');
    });
  });
}

for (const backend of await testBackends()) {
  describe(`job documents from the object store (${backend.name})`, { skip: backend.skip }, () => {
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

    it('reads documentSource once at CreateJob and presigns URLs only for devices', async () => {
      await putTestObject(t, 'jobdocs', 'install.json', JSON.stringify({ url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/artifacts/fw.bin}' }), false);
      await putTestObject(t, 'artifacts', 'fw.bin', 'firmware', false);
      await seedGroup(t, 'docs', ['doc-1']);
      const source = 'https://s3.amazonaws.com/jobdocs/install.json';
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'no-role', targets: [groupArn('docs')], documentSource: source })),
        'InvalidRequestException', { message: 'presignedUrlConfig role ARN is required' });
      await t.iot.send(new CreateJobCommand({
        jobId: 'from-s3', targets: [groupArn('docs')], documentSource: source,
        presignedUrlConfig: { roleArn: 'arn:aws:iam::123456789012:role/presign', expiresInSec: 300 },
      }));
      const described = await t.iot.send(new DescribeJobCommand({ jobId: 'from-s3' }));
      assert.equal(described.documentSource, source);
      const controlDoc = (await t.iot.send(new GetJobDocumentCommand({ jobId: 'from-s3' }))).document!;
      assert.match(controlDoc, /\$\{aws:iot:s3-presigned-url:/, 'the control plane keeps presigned placeholders');
      const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'doc-1' }));
      const url = (JSON.parse(started.execution!.jobDocument!) as { url: string }).url;
      assert.doesNotMatch(url, /\$\{/);
      assert.match(url, /X-Amz-Signature=/);
      assert.match(url, /artifacts\/fw\.bin/);
    });
  });
}
