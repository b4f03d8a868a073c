import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  GetBucketsAggregationCommand,
  GetCardinalityCommand,
  GetPercentilesCommand,
  GetStatisticsCommand,
  UpdateIndexingConfigurationCommand,
} from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const cliSkip = awsCliSkipReason();
const VERSION_FIELD = 'shadow.name.$package.reported.agent.version';

for (const backend of await testBackends()) {
  describe(`fleet-index aggregations (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      const data = iotDataClient(t);
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'north' }));
      // temp: the guide's statistics example (−125, 75, 150) on the "s" things; level: the CLI's percentiles example.
      const levels = [47, 70, 71, 72, 73, 74, 75, 97, 98, 99];
      const temps = [-125, 75, 150];
      const versions = ['2.0.1', '2.0.1', '2.0.0', '2.0.1', '1.9.0', '2.0.0'];
      for (let i = 0; i < 10; i++) {
        const thingName = `dev-${i}`;
        const attributes: Record<string, string> = { level: String(levels[i]) };
        if (i < 3) attributes.temp = String(temps[i]);
        await t.iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes } }));
        if (i < 6) {
          const payload = new TextEncoder().encode(JSON.stringify({ state: { reported: { agent: { version: versions[i] } } } }));
          await data.send(new UpdateThingShadowCommand({ thingName, shadowName: '$package', payload }));
        }
        if (i % 2 === 0) await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'north', thingName }));
      }
      await t.iot.send(new UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: {
          thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package'] },
          customFields: [{ name: 'attributes.temp', type: 'Number' }, { name: 'attributes.level', type: 'Number' }, { name: VERSION_FIELD, type: 'String' }],
        },
      }));
    });
    after(async () => t?.close());

    it('GetStatistics: the guide example on a Number field, count only on a String field, registry.version by default', async () => {
      const s = (await t.iot.send(new GetStatisticsCommand({ queryString: '*', aggregationField: 'attributes.temp' }))).statistics!;
      assert.equal(s.count, 3);
      assert.equal(s.sum, 100);
      assert.equal(s.minimum, -125);
      assert.equal(s.maximum, 150);
      assert.equal(s.sumOfSquares, 43750);
      assert.ok(Math.abs(s.average! - 33.333333333333336) < 1e-9);
      assert.ok(Math.abs(s.variance! - 13472.22222222222) < 1e-6);
      assert.ok(Math.abs(s.stdDeviation! - Math.sqrt(13472.22222222222)) < 1e-6);
      const str = (await t.iot.send(new GetStatisticsCommand({ queryString: '*', aggregationField: VERSION_FIELD }))).statistics!;
      assert.deepEqual({ ...str }, { count: 6 });
      const def = (await t.iot.send(new GetStatisticsCommand({ queryString: 'thingGroupNames:north' }))).statistics!;
      assert.deepEqual([def.count, def.sum], [5, 5]);
      const none = (await t.iot.send(new GetStatisticsCommand({ queryString: 'thingName:nobody', aggregationField: 'attributes.temp' }))).statistics!;
      assert.deepEqual({ ...none }, { count: 0 });
    });

    it('GetPercentiles interpolates linearly as the CLI example shows; GetCardinality counts distinct values', async () => {
      const p = await t.iot.send(new GetPercentilesCommand({ queryString: '*', aggregationField: 'attributes.level', percents: [10, 25, 50, 75, 90] }));
      assert.deepEqual(p.percentiles!.map((x) => [x.percent, Math.round(x.value! * 100) / 100]), [[10, 67.7], [25, 71.25], [50, 73.5], [75, 91.5], [90, 98.1]]);
      const defaults = await t.iot.send(new GetPercentilesCommand({ queryString: '*', aggregationField: 'attributes.level' }));
      assert.deepEqual(defaults.percentiles!.map((x) => x.percent), [1, 5, 25, 50, 75, 95, 99]);
      assert.deepEqual((await t.iot.send(new GetPercentilesCommand({ queryString: 'thingName:nobody', aggregationField: 'attributes.level' }))).percentiles, []);
      assert.equal((await t.iot.send(new GetCardinalityCommand({ queryString: '*', aggregationField: VERSION_FIELD }))).cardinality, 3);
      assert.equal((await t.iot.send(new GetCardinalityCommand({ queryString: 'thingName:dev-0 OR thingName:dev-1 OR thingName:dev-2', aggregationField: VERSION_FIELD }))).cardinality, 2);
    });

    it('GetBucketsAggregation gives the $package version distribution', async () => {
      const b = await t.iot.send(new GetBucketsAggregationCommand({ queryString: `${VERSION_FIELD}:*`, aggregationField: VERSION_FIELD, bucketsAggregationType: { termsAggregation: { maxBuckets: 10 } } }));
      assert.equal(b.totalCount, 6);
      assert.deepEqual(b.buckets!.map((x) => [x.keyValue, x.count]), [['2.0.1', 3], ['2.0.0', 2], ['1.9.0', 1]]);
      const top = await t.iot.send(new GetBucketsAggregationCommand({ queryString: '*', aggregationField: VERSION_FIELD, bucketsAggregationType: { termsAggregation: { maxBuckets: 1 } } }));
      assert.deepEqual([top.totalCount, top.buckets!.map((x) => x.keyValue)], [10, ['2.0.1']]);
    });

    it('refuses fields that are neither managed nor custom, percentiles of strings, bad queries', async () => {
      await expectAwsError(t.iot.send(new GetStatisticsCommand({ queryString: '*', aggregationField: 'attributes.other' })), 'InvalidAggregationException', { status: 400, message: /not a managed or custom field/ });
      await expectAwsError(t.iot.send(new GetPercentilesCommand({ queryString: '*', aggregationField: VERSION_FIELD })), 'InvalidAggregationException', { status: 400 });
      await expectAwsError(t.iot.send(new GetCardinalityCommand({ queryString: 'colour:red', aggregationField: VERSION_FIELD })), 'InvalidQueryException', { status: 400 });
      await expectAwsError(t.iot.send(new GetBucketsAggregationCommand({ queryString: '*', aggregationField: VERSION_FIELD, bucketsAggregationType: { termsAggregation: { maxBuckets: 0 } } })), 'InvalidRequestException', { status: 400 });
    });

    it('answers the AWS CLI', { skip: cliSkip }, async () => {
      const r = await runAwsCli(t.url, ['iot', 'get-buckets-aggregation', '--query-string', `${VERSION_FIELD}:*`, '--aggregation-field', VERSION_FIELD, '--buckets-aggregation-type', 'termsAggregation={maxBuckets=5}']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((r.json as { buckets: { keyValue: string }[] }).buckets.map((x) => x.keyValue), ['2.0.1', '2.0.0', '1.9.0']);
    });
  });
}
