import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AssociateSbomWithPackageVersionCommand, CreatePackageCommand, CreatePackageVersionCommand, GetPackageVersionCommand, IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/app.js';
import { resolveConfig } from '../../src/config/config.js';
import { POSTGRES_URL, testBackends } from '../support/backends.js';
import { s3Client } from '../support/s3.js';
import { json, minimalSpdx } from '../support/sbom-fixtures.js';
import { REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const BUCKET = 'node-sboms';

/**
 * Issue 10, item 6: the SBOM validation queue is no longer one process's memory. Two servers on
 * one PostgreSQL: a validation one node does not take is taken by the other, one a node holds a
 * live lease on is left alone, and one whose lease lapsed (its node died) is taken over.
 */
for (const backend of (await testBackends()).filter((b) => b.name === 'postgres')) {
  describe(`SBOM validation across nodes (${backend.name})`, { skip: backend.skip }, () => {
    let a: TestServer;
    let b: RunningServer;
    let bIot: IoTClient;
    before(async () => {
      a = await startTestServer(backend);
      const config = resolveConfig(
        { port: 0, mqttPort: 0, dataDir: a.dataDir, databaseUrl: POSTGRES_URL },
        { FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
      );
      b = await startServer({ config, clock: a.clock, logger: pino({ level: 'silent' }), databaseSchema: a.schema });
      bIot = new IoTClient({ endpoint: b.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      const s3 = s3Client(a, 'WHEN_REQUIRED');
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
      s3.destroy();
      await a.iot.send(new CreatePackageCommand({ packageName: 'nodes' }));
    });
    after(async () => {
      bIot?.destroy();
      await b?.close();
      await a?.close();
    });

    async function associate(versionName: string): Promise<number> {
      const s3 = s3Client(a, 'WHEN_REQUIRED');
      const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${versionName}.spdx.json`, Body: json(minimalSpdx()) }));
      s3.destroy();
      await a.iot.send(new CreatePackageVersionCommand({ packageName: 'nodes', versionName }));
      await a.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'nodes', versionName, sbom: { s3Location: { bucket: BUCKET, key: `${versionName}.spdx.json`, version: VersionId } } }));
      return Number((await a.server.store.packageVersions.get('nodes', versionName))!.sbom_generation);
    }
    const status = async (versionName: string) => (await bIot.send(new GetPackageVersionCommand({ packageName: 'nodes', versionName }))).sbomValidationStatus;
    /** One look by B's engine, then B's queue drained. */
    const bLooks = async () => {
      await b.engine.step();
      await b.sbomValidation.idle();
    };

    it('lets another node take a validation the first did not start', async () => {
      a.server.sbomValidation.pause();
      await associate('1.0.0');
      assert.equal(await status('1.0.0'), 'IN_PROGRESS');
      await bLooks();
      assert.equal(await status('1.0.0'), 'SUCCEEDED');
      // A's queued copy finds the work done and does nothing.
      a.server.sbomValidation.resume();
      await a.server.sbomValidation.idle();
      assert.equal(await status('1.0.0'), 'SUCCEEDED');
    });

    it('leaves a validation another node holds alone, and takes it over once that lease lapses', async () => {
      a.server.sbomValidation.pause();
      const generation = await associate('2.0.0');
      const store = a.server.store.sbomValidations;
      assert.equal(await store.claim('nodes', '2.0.0', generation, 'a-node-that-will-die', Date.now(), Date.now() + 60_000), true);
      await bLooks();
      assert.equal(await status('2.0.0'), 'IN_PROGRESS', 'B does not validate what a live node holds');
      // The holder dies: its lease is left to lapse (here: set in the past).
      assert.equal(await store.claim('nodes', '2.0.0', generation, 'a-node-that-will-die', Date.now(), Date.now() - 1), true);
      await bLooks();
      assert.equal(await status('2.0.0'), 'SUCCEEDED');
      a.server.sbomValidation.resume();
    });
  });
}
