import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateThingCommand, DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { GetPendingJobExecutionsCommand, IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { decodeShadow } from '../support/iot-data.js';
import { expectAwsError, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const cliSkip = awsCliSkipReason();

/**
 * DescribeEndpoint, the way AWS's own examples find the shadow and jobs hosts (things-and-shadows.md
 * §5.1, jobs.md §11 #19): every plane is on the one port, so the address answered is the server's,
 * and clients built from it work.
 */
for (const backend of await testBackends()) {
  describe(`DescribeEndpoint (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreateThingCommand({ thingName: 'found-by-endpoint' }));
    });
    after(async () => {
      await t?.close();
    });

    it('answers the address of the data and jobs planes, and clients built from it work', async () => {
      const host = new URL(t.url).host;
      for (const endpointType of ['iot:Data-ATS', 'iot:Data', 'iot:Jobs', undefined]) {
        const out = await t.iot.send(new DescribeEndpointCommand({ endpointType }));
        assert.equal(out.endpointAddress, host, String(endpointType));
      }
      const dataAddress = (await t.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress!;
      const shadows = new IoTDataPlaneClient({ endpoint: `http://${dataAddress}`, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      const jobsAddress = (await t.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Jobs' }))).endpointAddress!;
      const jobs = new IoTJobsDataPlaneClient({ endpoint: `http://${jobsAddress}`, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        await shadows.send(new UpdateThingShadowCommand({ thingName: 'found-by-endpoint', payload: Buffer.from(JSON.stringify({ state: { reported: { fw: '1.0' } } })) }));
        const got = decodeShadow((await shadows.send(new GetThingShadowCommand({ thingName: 'found-by-endpoint' }))).payload);
        assert.deepEqual(got.state, { reported: { fw: '1.0' } });
        const pending = await jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'found-by-endpoint' }));
        assert.deepEqual([pending.inProgressJobs, pending.queuedJobs], [[], []]);
      } finally {
        shadows.destroy();
        jobs.destroy();
      }
    });

    it('refuses endpoint types it does not know or serve', async () => {
      await expectAwsError(t.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' })), 'InvalidRequestException', { status: 400, message: /Endpoint type iot:Nope is not valid/ });
      await expectAwsError(t.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:CredentialProvider' })), 'InvalidRequestException', {
        status: 400, message: 'fleetjobs does not serve the iot:CredentialProvider endpoint.',
      });
    });

    it('answers the AWS CLI', { skip: cliSkip }, async () => {
      const out = await runAwsCli(t.url, ['iot', 'describe-endpoint', '--endpoint-type', 'iot:Data-ATS']);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(out.json, { endpointAddress: new URL(t.url).host });
    });
  });

  describe(`DescribeEndpoint under --public-url (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_PUBLIC_URL: 'https://fleet.example.com:8443' });
    });
    after(async () => {
      await t?.close();
    });

    it('answers the public host, the one devices reach', async () => {
      assert.equal((await t.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress, 'fleet.example.com:8443');
    });
  });
}
