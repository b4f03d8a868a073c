import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateJobCommand,
  CreatePackageCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  AddThingToThingGroupCommand,
  DescribeJobCommand,
  DescribeThingCommand,
  IoTClient,
  ListJobsCommand,
  ListPackagesCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { expectAwsError, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

/**
 * `--regions`: one endpoint serving several regions, each with resources of its own and ARNs in
 * that region (decision 0017), all on the one clock and engine; '*' serves any region.
 */
for (const backend of await testBackends()) {
  describe(`several regions on one endpoint (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const clients: IoTClient[] = [];
    const iot = (region: string) => {
      const c = new IoTClient({ endpoint: t.url, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      clients.push(c);
      return c;
    };
    before(async () => {
      t = await startTestServer(backend, { clock: undefined }, { FLEETJOBS_TEST_MODE: '1', FLEETJOBS_REGIONS: 'us-east-1,eu-west-1' });
    });
    after(async () => {
      for (const c of clients) c.destroy();
      await t?.close();
    });

    it('keeps each region\'s resources apart, with ARNs in that region', async () => {
      const us = iot('us-east-1');
      const eu = iot('eu-west-1');
      const usThing = await us.send(new CreateThingCommand({ thingName: 'gw-1', attributePayload: { attributes: { where: 'us' } } }));
      const euThing = await eu.send(new CreateThingCommand({ thingName: 'gw-1', attributePayload: { attributes: { where: 'eu' } } }));
      assert.equal(usThing.thingArn, 'arn:aws:iot:us-east-1:123456789012:thing/gw-1');
      assert.equal(euThing.thingArn, 'arn:aws:iot:eu-west-1:123456789012:thing/gw-1');
      assert.notEqual(usThing.thingId, euThing.thingId);
      assert.deepEqual((await us.send(new DescribeThingCommand({ thingName: 'gw-1' }))).attributes, { where: 'us' });
      assert.deepEqual((await eu.send(new DescribeThingCommand({ thingName: 'gw-1' }))).attributes, { where: 'eu' });

      await eu.send(new CreateThingCommand({ thingName: 'only-eu' }));
      await expectAwsError(us.send(new DescribeThingCommand({ thingName: 'only-eu' })), 'ResourceNotFoundException', { status: 404 });
      assert.deepEqual((await us.send(new ListThingsCommand({}))).things?.map((x) => x.thingName), ['gw-1']);
      assert.deepEqual((await eu.send(new ListThingsCommand({}))).things?.map((x) => x.thingName).sort(), ['gw-1', 'only-eu']);

      await eu.send(new CreatePackageCommand({ packageName: 'fw' }));
      assert.deepEqual((await us.send(new ListPackagesCommand({}))).packageSummaries, []);
      assert.equal((await eu.send(new ListPackagesCommand({}))).packageSummaries?.[0]?.packageName, 'fw');
      if (backend.name === 'sqlite') assert.ok(existsSync(join(t.dataDir, 'fleetjobs-eu-west-1.db')), 'eu-west-1 has a database file of its own');
    });

    it('runs every region\'s rollouts on the one clock', async () => {
      const eu = iot('eu-west-1');
      await eu.send(new CreateThingGroupCommand({ thingGroupName: 'eu-fleet' }));
      for (let i = 0; i < 6; i++) {
        await eu.send(new CreateThingCommand({ thingName: `eu-${i}` }));
        await eu.send(new AddThingToThingGroupCommand({ thingGroupName: 'eu-fleet', thingName: `eu-${i}` }));
      }
      await sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/clock', body: '{"freeze":true}' });
      await eu.send(new CreateJobCommand({
        jobId: 'eu-paced', targets: ['arn:aws:iot:eu-west-1:123456789012:thinggroup/eu-fleet'], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
      }));
      const queued = async () => (await eu.send(new DescribeJobCommand({ jobId: 'eu-paced' }))).job!.jobProcessDetails!.numberOfQueuedThings;
      assert.equal(await queued(), 2);
      await sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/clock', body: '{"advanceSeconds":120}' });
      assert.equal(await queued(), 6);
      assert.equal((await eu.send(new DescribeJobCommand({ jobId: 'eu-paced' }))).job?.jobArn, 'arn:aws:iot:eu-west-1:123456789012:job/eu-paced');
      assert.deepEqual((await iot('us-east-1').send(new ListJobsCommand({}))).jobs, []);
    });

    it('refuses a region it does not serve, seeds the region a request is signed for, and resets them all', async () => {
      const refused = await expectAwsError(iot('ap-south-1').send(new ListThingsCommand({})), 'InvalidSignatureException', { status: 403 });
      assert.match(refused.message, /not 'ap-south-1'.*'us-east-1', 'eu-west-1'/);

      const seeded = await sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/seed', body: JSON.stringify({ things: [{ thingName: 'seeded-eu' }] }) }, { region: 'eu-west-1' });
      assert.equal(seeded.status, 200, seeded.text);
      assert.equal((await iot('eu-west-1').send(new DescribeThingCommand({ thingName: 'seeded-eu' }))).thingArn, 'arn:aws:iot:eu-west-1:123456789012:thing/seeded-eu');
      await expectAwsError(iot('us-east-1').send(new DescribeThingCommand({ thingName: 'seeded-eu' })), 'ResourceNotFoundException');

      assert.equal((await sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/reset' })).status, 200);
      assert.deepEqual((await iot('us-east-1').send(new ListThingsCommand({}))).things, []);
      assert.deepEqual((await iot('eu-west-1').send(new ListThingsCommand({}))).things, []);
    });
  });

  describe(`one region with --no-auth (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_NO_AUTH: '1' });
    });
    after(async () => t?.close());

    it('still refuses a request scoped to a region it does not serve', async () => {
      const other = await sendSigned(t.url, { method: 'POST', path: '/things/wrong-region', body: '{}' }, { region: 'eu-west-1' });
      assert.equal(other.status, 403, other.text);
      assert.equal(other.json?.__type, 'InvalidSignatureException');
      assert.deepEqual((await sendSigned(t.url, { method: 'GET', path: '/things' })).json?.things, [], 'nothing was made');
    });
  });

  describe(`any region with --regions '*' (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_REGIONS: '*' });
    });
    after(async () => t?.close());

    it('opens a region on its first signed request, and refuses a scope that names no region', async () => {
      const far = new IoTClient({ endpoint: t.url, region: 'ap-southeast-2', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        const made = await far.send(new CreateThingCommand({ thingName: 'far' }));
        assert.equal(made.thingArn, 'arn:aws:iot:ap-southeast-2:123456789012:thing/far');
        assert.deepEqual((await far.send(new ListThingsCommand({}))).things?.map((x) => x.thingName), ['far']);
        assert.deepEqual((await t.iot.send(new ListThingsCommand({}))).things, [], 'the home region holds none of it');
      } finally {
        far.destroy();
      }
      for (const region of ['not-a-region', `aa-${'b'.repeat(300)}-1`]) {
        const bogus = await sendSigned(t.url, { method: 'GET', path: '/things' }, { region });
        assert.equal(bogus.status, 403, bogus.text);
        assert.equal(bogus.json?.__type ?? bogus.headers['x-amzn-errortype'], 'InvalidSignatureException');
      }
    });
  });
}
