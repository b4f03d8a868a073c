import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateDynamicThingGroupCommand,
  CreateJobCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  CreateThingCommand,
  DeleteDynamicThingGroupCommand,
  DescribeJobExecutionCommand,
  ListThingsInThingGroupCommand,
  UpdateIndexingConfigurationCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { counters, groupArn, jobsDataClient, jobState, packageVersionArn, pickCounters } from '../support/jobs.js';
import { startTestServer, type TestServer } from '../support/server.js';

const cliSkip = awsCliSkipReason();
const OLD_AGENT = 'shadow.name.$package.reported.agent.version:* AND NOT shadow.name.$package.reported.agent.version:2.0.1';

async function reportAgent(data: IoTDataPlaneClient, thingName: string, version: string): Promise<void> {
  const payload = new TextEncoder().encode(JSON.stringify({ state: { reported: { agent: { version } } } }));
  await data.send(new UpdateThingShadowCommand({ thingName, shadowName: '$package', payload }));
}

for (const backend of await testBackends()) {
  describe(`CONTINUOUS jobs on dynamic thing groups (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let data: IoTDataPlaneClient;
    let devices: IoTJobsDataPlaneClient;
    const members = async (g: string) => ((await t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: g }))).things ?? []).sort();
    const execution = async (jobId: string, thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;

    before(async () => {
      t = await startTestServer(backend);
      data = iotDataClient(t);
      devices = jobsDataClient(t);
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package'] } } }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/update-shadows' } }));
      await t.iot.send(new CreatePackageCommand({ packageName: 'agent' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'agent', versionName: '2.0.1' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'agent', versionName: '2.0.1', action: 'PUBLISH' }));
    });
    after(async () => {
      data?.destroy();
      devices?.destroy();
      await t?.close();
    });

    it('gives a thing an execution when it starts to match, REMOVES a QUEUED one when it stops, and keeps a SUCCEEDED one', async () => {
      for (const n of ['a1', 'a2', 'a3', 'a4']) await t.iot.send(new CreateThingCommand({ thingName: n }));
      await reportAgent(data, 'a1', '2.0.0');
      await reportAgent(data, 'a2', '2.0.0');
      await reportAgent(data, 'a3', '2.0.1');
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'stragglers', queryString: OLD_AGENT }));
      assert.deepEqual(await members('stragglers'), ['a1', 'a2']);
      await t.iot.send(new CreateJobCommand({
        jobId: 'to-201', targets: [groupArn('stragglers')], targetSelection: 'CONTINUOUS', document: '{"step":"install"}',
        destinationPackageVersions: [packageVersionArn('agent', '2.0.1')],
      }));
      assert.deepEqual(pickCounters(await jobState(t, 'to-201')), counters({ queued: 2 }));

      // a4 reports an old version: it joins, and its execution is queued in the same request.
      await reportAgent(data, 'a4', '1.9.0');
      assert.deepEqual(await members('stragglers'), ['a1', 'a2', 'a4']);
      assert.equal((await execution('to-201', 'a4'))?.status, 'QUEUED');

      // a2 is updated some other way: it leaves, and its QUEUED execution is REMOVED.
      await reportAgent(data, 'a2', '2.0.1');
      assert.deepEqual(await members('stragglers'), ['a1', 'a4']);
      assert.equal((await execution('to-201', 'a2'))?.status, 'REMOVED');

      // a1 runs the job: its success writes $package, so it leaves the group, and its execution stays SUCCEEDED.
      await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'a1' }));
      await devices.send(new UpdateJobExecutionCommand({ thingName: 'a1', jobId: 'to-201', status: 'SUCCEEDED' }));
      assert.deepEqual(await members('stragglers'), ['a4']);
      assert.equal((await execution('to-201', 'a1'))?.status, 'SUCCEEDED');
      assert.deepEqual(pickCounters(await jobState(t, 'to-201')), counters({ queued: 1, succeeded: 1, removed: 1 }));

      // A new thing reporting an old version joins and gets an execution too.
      await t.iot.send(new CreateThingCommand({ thingName: 'a5' }));
      await reportAgent(data, 'a5', '1.0.0');
      assert.equal((await execution('to-201', 'a5'))?.status, 'QUEUED');

      // Deleting the group is every member leaving: QUEUED executions are REMOVED.
      await t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'stragglers' }));
      assert.equal((await execution('to-201', 'a4'))?.status, 'REMOVED');
      assert.equal((await execution('to-201', 'a5'))?.status, 'REMOVED');
      assert.equal((await execution('to-201', 'a1'))?.status, 'SUCCEEDED');
    });

    it('resolves a SNAPSHOT job on a dynamic group once', async () => {
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'tagged', queryString: 'attributes.ring:1' }));
      await t.iot.send(new UpdateThingCommand({ thingName: 'a3', attributePayload: { attributes: { ring: '1' } } }));
      await t.iot.send(new CreateJobCommand({ jobId: 'once', targets: [groupArn('tagged')], document: '{}' }));
      await t.iot.send(new UpdateThingCommand({ thingName: 'a4', attributePayload: { attributes: { ring: '1' } } }));
      assert.deepEqual(await members('tagged'), ['a3', 'a4']);
      assert.equal((await execution('once', 'a3'))?.status, 'QUEUED');
      assert.equal(await execution('once', 'a4').catch((e: Error) => e.name), 'ResourceNotFoundException', 'a SNAPSHOT job does not follow');
    });
  });

  // The README's walkthrough, through the AWS CLI: devices report versions, search-index finds the
  // stragglers, a dynamic group of them gets a CONTINUOUS job, and each device leaves as it succeeds.
  describe(`the README's fleet walkthrough with the AWS CLI (${backend.name})`, { skip: backend.skip ?? cliSkip }, () => {
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    const aws = async (...args: string[]) => {
      const r = await runAwsCli(t.url, args);
      assert.equal(r.code, 0, `aws ${args.join(' ')}: ${r.stderr}`);
      return r.json as Record<string, unknown>;
    };
    before(async () => {
      t = await startTestServer(backend);
      devices = jobsDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      await t?.close();
    });

    it('moves every straggler to the new version', async () => {
      await aws('iot', 'update-indexing-configuration', '--thing-indexing-configuration',
        'thingIndexingMode=REGISTRY,namedShadowIndexingMode=ON,filter={namedShadowNames=[$package]}');
      await aws('iot', 'update-package-configuration', '--version-update-by-jobs-config', 'enabled=true,roleArn=arn:aws:iam::123456789012:role/update-shadows');
      await aws('iot', 'create-package', '--package-name', 'agent');
      await aws('iot', 'create-package-version', '--package-name', 'agent', '--version-name', '2.0.1');
      await aws('iot', 'update-package-version', '--package-name', 'agent', '--version-name', '2.0.1', '--action', 'PUBLISH');
      for (const [name, version] of [['pump-01', '2.0.0'], ['pump-02', '2.0.1'], ['pump-03', '2.0.0']]) {
        await aws('iot', 'create-thing', '--thing-name', name);
        // fileb:// reads the payload as bytes in AWS CLI v1 and v2 alike.
        const payload = join(t.dataDir, `${name}.json`);
        await writeFile(payload, JSON.stringify({ state: { reported: { agent: { version } } } }));
        await aws('iot-data', 'update-thing-shadow', '--thing-name', name, '--shadow-name', '$package', '--payload', `fileb://${payload}`, join(t.dataDir, 'out.json'));
      }
      const found = await aws('iot', 'search-index', '--query-string', OLD_AGENT);
      assert.deepEqual((found.things as { thingName: string }[]).map((x) => x.thingName).sort(), ['pump-01', 'pump-03']);

      const group = await aws('iot', 'create-dynamic-thing-group', '--thing-group-name', 'agent-stragglers', '--query-string', OLD_AGENT);
      assert.equal(group.queryString, OLD_AGENT);
      const described = await aws('iot', 'describe-thing-group', '--thing-group-name', 'agent-stragglers');
      assert.equal(described.status, 'ACTIVE');
      await aws('iot', 'create-job', '--job-id', 'agent-201', '--targets', groupArn('agent-stragglers'), '--target-selection', 'CONTINUOUS',
        '--document', '{"operation":"install"}', '--destination-package-versions', packageVersionArn('agent', '2.0.1'));

      for (const device of ['pump-01', 'pump-03']) {
        await devices.send(new StartNextPendingJobExecutionCommand({ thingName: device }));
        await devices.send(new UpdateJobExecutionCommand({ thingName: device, jobId: 'agent-201', status: 'SUCCEEDED' }));
        const left = await aws('iot', 'list-things-in-thing-group', '--thing-group-name', 'agent-stragglers');
        assert.ok(!(left.things as string[]).includes(device), `${device} left the group`);
      }
      const empty = await aws('iot', 'search-index', '--query-string', OLD_AGENT);
      assert.deepEqual(empty.things, []);
      const job = await aws('iot', 'describe-job', '--job-id', 'agent-201');
      assert.equal((job.job as { jobProcessDetails: { numberOfSucceededThings: number } }).jobProcessDetails.numberOfSucceededThings, 2);
    });
  });
}
