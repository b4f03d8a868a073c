import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateJobTemplateCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  ListJobsCommand,
  ListPackagesCommand,
  ListThingGroupsCommand,
  ListThingsCommand,
  TagResourceCommand,
  UpdatePackageConfigurationCommand,
} from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { CreateMultipartUploadCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { KEPT_BY_RESET, tableNames } from '../../src/store/reset.js';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { groupArn, thingArn } from '../support/jobs.js';
import { TestDevice } from '../support/mqtt.js';
import { sendRaw, sendSigned } from '../support/raw-signed-http.js';
import { putTestObject, s3Client } from '../support/s3.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * `--test-mode`'s reset (`POST /_fleetjobs/reset`, and moto's unsigned `/moto-api/reset`): every
 * resource of every kind gone, checked table by table and through the APIs, while the credentials
 * and the clock stay; and none of it is reachable with test mode off.
 */
for (const backend of await testBackends()) {
  describe(`test mode: reset (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    /** Each table's rows in a fresh server: what a reset must come back to. */
    let fresh: Record<string, number>;
    before(async () => {
      // No virtual clock passed: test mode makes its own controllable one.
      t = await startTestServer(backend, { clock: undefined }, { FLEETJOBS_TEST_MODE: '1' });
      fresh = await rowCounts();
    });
    after(async () => t?.close());

    const rowCounts = async (): Promise<Record<string, number>> => {
      const { db, dialect } = t.server.store;
      const out: Record<string, number> = {};
      for (const table of await tableNames(db, dialect)) {
        const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
        out[table] = Number(r.rows[0].n);
      }
      return out;
    };
    const reset = () => sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/reset' });
    const clock = (body?: Record<string, unknown>) =>
      body ? sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/clock', body: JSON.stringify(body) }) : sendSigned(t.url, { method: 'GET', path: '/_fleetjobs/clock' });

    /** One of every kind of resource, so every table that holds one has a row. */
    async function populate(n: string): Promise<void> {
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: `${n}-type` }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: `${n}-fleet` }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: `${n}-eu`, parentGroupName: `${n}-fleet` }));
      for (let i = 0; i < 3; i++) {
        await t.iot.send(new CreateThingCommand({ thingName: `${n}-dev-${i}`, thingTypeName: `${n}-type`, attributePayload: { attributes: { site: 'lab' } } }));
        await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: `${n}-eu`, thingName: `${n}-dev-${i}` }));
      }
      await t.iot.send(new TagResourceCommand({ resourceArn: groupArn(`${n}-fleet`), tags: [{ Key: 'team', Value: 'qa' }] }));
      await t.iot.send(new CreatePackageCommand({ packageName: `${n}-fw`, clientToken: `${n}-token-0000000000000000000000000000000` }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: `${n}-fw`, versionName: '1.0.0', attributes: { channel: 'beta' } }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/fw' } }));
      await t.iot.send(new CreateJobTemplateCommand({ jobTemplateId: `${n}-tpl`, description: 'x', document: '{"step":1}' }));
      await t.iot.send(new CreateJobCommand({ jobId: `${n}-job`, targets: [groupArn(`${n}-fleet`)], document: '{"step":1}', jobExecutionsRolloutConfig: { maximumPerMinute: 1 } }));
      const data = iotDataClient(t);
      try {
        await data.send(new UpdateThingShadowCommand({ thingName: `${n}-dev-0`, payload: Buffer.from('{"state":{"reported":{"on":true}}}') }));
        await data.send(new UpdateThingShadowCommand({ thingName: `${n}-dev-0`, shadowName: 'cfg', payload: Buffer.from('{"state":{"desired":{"x":1}}}') }));
      } finally {
        data.destroy();
      }
      await putTestObject(t, `${n}-bucket`, 'fw/1.0.0.bin', 'firmware bytes');
      const s3 = s3Client(t, 'WHEN_REQUIRED');
      try {
        await s3.send(new CreateMultipartUploadCommand({ Bucket: `${n}-bucket`, Key: 'big.bin' }));
      } finally {
        s3.destroy();
      }
    }

    it('wipes every table but the migrations and leases, the object files and the devices, and keeps credentials and clock', async () => {
      await clock({ set: '2031-05-06T07:08:09.000Z' });
      await populate('r1');
      const device = await TestDevice.connect(t.server.mqttUrl!, 'r1-dev-1', { clean: false });
      await device.subscribe('jobs/notify-next');
      const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));

      const before = await rowCounts();
      for (const table of ['things', 'thing_types', 'thing_groups', 'thing_group_members', 'thing_attributes', 'tags', 'packages', 'package_versions', 'settings', 'idempotency_tokens',
        'job_templates', 'jobs', 'job_targets', 'job_executions', 'job_rollouts', 'shadows', 's3_buckets', 's3_object_versions', 's3_multipart_uploads']) {
        assert.ok(before[table] > 0, `${table} holds a row before the reset (${JSON.stringify(before)})`);
      }
      const started = performance.now();
      const res = await reset();
      const ms = performance.now() - started;
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { status: 'ok' });
      const total = Object.values(before).reduce((a, b) => a + b, 0);
      console.log(`# reset of ${total} rows over ${Object.keys(before).length} tables took ${ms.toFixed(1)} ms (${backend.name})`);

      const afterReset = await rowCounts();
      for (const [table, n] of Object.entries(afterReset)) {
        if ((KEPT_BY_RESET as readonly string[]).includes(table)) continue;
        assert.equal(n, fresh[table], `${table} holds what a fresh server's does after the reset`);
      }
      assert.deepEqual(Object.keys(afterReset), Object.keys(fresh));
      assert.equal(afterReset.kysely_migration, fresh.kysely_migration, 'the schema stays migrated');
      assert.deepEqual((await readdir(join(t.dataDir, 'objects'))).filter((f) => !f.startsWith('.')), [], 'no object file is left');
      await closed; // the device was disconnected: its thing is gone
      await device.close();

      // Through the APIs, as a fresh server answers, with the same key.
      assert.deepEqual((await t.iot.send(new ListThingsCommand({}))).things, []);
      assert.deepEqual((await t.iot.send(new ListThingGroupsCommand({}))).thingGroups, []);
      assert.deepEqual((await t.iot.send(new ListJobsCommand({}))).jobs, []);
      assert.deepEqual((await t.iot.send(new ListPackagesCommand({}))).packageSummaries, []);
      const s3 = s3Client(t, 'WHEN_REQUIRED');
      try {
        assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
      } finally {
        s3.destroy();
      }
      // The clock stays where it was.
      assert.deepEqual((await clock()).json, { now: '2031-05-06T07:08:09.000Z', frozen: true });

      // The client token is free again (other parameters would have conflicted), and so is every name.
      await t.iot.send(new CreatePackageCommand({ packageName: 'r1-other', clientToken: 'r1-token-0000000000000000000000000000000' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'r1-dev-0' }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'r1-fleet' }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'r1-fleet', thingName: 'r1-dev-0' }));
      await t.iot.send(new CreateJobCommand({ jobId: 'r1-job', targets: [groupArn('r1-fleet')], document: '{}' }));
      assert.deepEqual((await t.iot.send(new ListJobsCommand({}))).jobs?.map((j) => j.jobId), ['r1-job']);
    });

    it('drops what a kept MQTT session had queued: a device that comes back after a reset hears nothing of before', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'sleeper' }));
      const d = await TestDevice.connect(t.server.mqttUrl!, 'sleeper', { clean: false });
      await d.subscribe('jobs/notify-next');
      await d.close();
      // Offline: the job's notify-next waits in its session.
      await t.iot.send(new CreateJobCommand({ jobId: 'stale', targets: [thingArn('sleeper')], document: '{}' }));
      await t.server.mqttNotifications?.idle();
      assert.equal((await reset()).status, 200);
      await t.iot.send(new CreateThingCommand({ thingName: 'sleeper' }));
      const back = await TestDevice.connect(t.server.mqttUrl!, 'sleeper', { clean: false });
      try {
        // Queued messages come right after CONNACK, before any reply: once a reply is in, none came.
        assert.equal((await back.request('jobs/get')).accepted, true);
        assert.deepEqual(back.received.map((m) => m.topic), [], 'no notify-next of the job the reset wiped');
      } finally {
        await back.close();
      }
    });

    it('answers moto\'s unsigned POST /moto-api/reset the same way', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'moto-thing' }));
      const res = await sendRaw(t.url, { method: 'POST', path: '/moto-api/reset' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { status: 'ok' });
      assert.deepEqual((await t.iot.send(new ListThingsCommand({}))).things, []);
      // Signed works too, as it does on moto.
      assert.equal((await sendSigned(t.url, { method: 'POST', path: '/moto-api/reset' })).status, 200);
      // Other unsigned requests are still refused.
      assert.equal((await sendRaw(t.url, { method: 'POST', path: '/_fleetjobs/reset' })).status, 403);
    });

    it('resets a few hundred resources on the spot', async () => {
      for (let i = 0; i < 10; i++) {
        await t.iot.send(new CreateThingGroupCommand({ thingGroupName: `g${i}` }));
        for (let j = 0; j < 30; j++) {
          await t.iot.send(new CreateThingCommand({ thingName: `t${i}-${j}` }));
          await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: `g${i}`, thingName: `t${i}-${j}` }));
        }
        await t.iot.send(new CreateJobCommand({ jobId: `j${i}`, targets: [groupArn(`g${i}`)], document: '{}' }));
      }
      const before = await rowCounts();
      assert.equal(before.job_executions, 300);
      const started = performance.now();
      assert.equal((await reset()).status, 200);
      console.log(`# reset of 10 groups, 300 things, 10 jobs and 300 executions took ${(performance.now() - started).toFixed(1)} ms (${backend.name})`);
      assert.equal((await rowCounts()).job_executions, 0);
      assert.deepEqual((await t.iot.send(new ListThingsCommand({}))).things, []);
    });
  });

  describe(`test mode off (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let open: TestServer;
    before(async () => {
      t = await startTestServer(backend, { clock: undefined });
      open = await startTestServer(backend, { clock: undefined }, { FLEETJOBS_NO_AUTH: '1' });
    });
    after(async () => {
      await t?.close();
      await open?.close();
    });

    it('serves none of its endpoints, signed or not, and a reset changes nothing', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'kept' }));
      for (const [method, path] of [['POST', '/_fleetjobs/reset'], ['GET', '/_fleetjobs/clock'], ['POST', '/_fleetjobs/clock'], ['POST', '/moto-api/reset']] as const) {
        const signed = await sendSigned(t.url, { method, path, ...(method === 'POST' && path.endsWith('clock') ? { body: '{"advanceSeconds":60}' } : {}) });
        assert.equal(signed.status, 404, `${method} ${path} signed: ${signed.text}`);
        assert.equal(signed.json?.__type ?? signed.headers['x-amzn-errortype'], 'UnknownOperationException');
        const unsigned = await sendRaw(t.url, { method, path });
        assert.equal(unsigned.status, 403, `${method} ${path} unsigned: ${unsigned.text}`);
        const noAuth = await sendRaw(open.url, { method, path });
        assert.equal(noAuth.status, 404, `${method} ${path} with --no-auth: ${noAuth.text}`);
      }
      assert.deepEqual((await t.iot.send(new ListThingsCommand({}))).things?.map((x) => x.thingName), ['kept']);
    });
  });
}
