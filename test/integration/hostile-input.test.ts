import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AssociateTargetsWithJobCommand,
  CreateJobCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  DescribeThingCommand,
  ListPackageVersionsCommand,
  TagResourceCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { groupArn, seedThing, thingArn } from '../support/jobs.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const forgedToken = (list: string, k: unknown) => Buffer.from(JSON.stringify({ l: list, k })).toString('base64url');

/**
 * Input no honest client sends, but any signed one can: values PostgreSQL cannot store or compare
 * (NUL, integers past 2^53), forged cursors, keys named like prototype members, racing calls.
 * Each must be a 4xx (or plain success), on both backends — never a 500.
 */
for (const backend of await testBackends()) {
  describe(`hostile input (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreatePackageCommand({ packageName: 'hostile' }));
      await seedThing(t, 'hostile-thing');
      await t.iot.send(new CreateJobCommand({ jobId: 'hostile-job', targets: [thingArn('hostile-thing')], document: '{}' }));
    });
    after(async () => t?.close());

    it('refuses NUL characters in members without a pattern', async () => {
      await expectAwsError(
        t.iot.send(new CreatePackageVersionCommand({ packageName: 'hostile', versionName: 'v1', recipe: 'a\u0000b' })),
        'ValidationException', { status: 400, message: 'NUL' });
      await expectAwsError(
        t.iot.send(new TagResourceCommand({ resourceArn: 'arn:aws:iot:us-east-1:123456789012:package/hostile', tags: [{ Key: 'k', Value: 'x\u0000' }] })),
        'InvalidRequestException', { status: 400 });
    });

    it('refuses integers beyond 2^53 instead of passing them to the database', async () => {
      await expectAwsError(
        t.iot.send(new DescribeJobExecutionCommand({ jobId: 'hostile-job', thingName: 'hostile-thing', executionNumber: 99999999999999999999 })),
        'InvalidRequestException', { status: 400 });
    });

    it('refuses forged pagination tokens with fractional numbers or NUL', async () => {
      for (const k of [[1.5, 'x'], [1e300, 'x'], [1, 'a\u0000']]) {
        await expectAwsError(
          t.iot.send(new ListPackageVersionsCommand({ packageName: 'hostile', nextToken: forgedToken('versions:hostile:', k) })),
          'ValidationException', { status: 400, message: 'Next token is invalid.' });
      }
    });

    it('keeps a thing attribute named __proto__ like any other', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'proto-thing', attributePayload: { attributes: { ['__proto__']: 'x', a: 'b' } } }));
      const thing = await t.iot.send(new DescribeThingCommand({ thingName: 'proto-thing' }));
      assert.deepEqual(Object.entries(thing.attributes ?? {}).sort(), [['__proto__', 'x'], ['a', 'b']]);
    });

    it('numbers targets of concurrent AssociateTargetsWithJob calls without colliding', async () => {
      const groups = ['race-a', 'race-b', 'race-c', 'race-d'];
      for (const g of groups) await t.iot.send(new CreateThingGroupCommand({ thingGroupName: g }));
      await t.iot.send(new CreateJobCommand({ jobId: 'race-job', targets: [thingArn('hostile-thing')], document: '{}', targetSelection: 'CONTINUOUS' }));
      await Promise.all(groups.map((g) => t.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'race-job', targets: [groupArn(g)] }))));
      const job = (await t.iot.send(new DescribeJobCommand({ jobId: 'race-job' }))).job!;
      assert.deepEqual([...job.targets!].sort(), [thingArn('hostile-thing'), ...groups.map(groupArn)].sort());
    });
  });
}
