import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AssociateSbomWithPackageVersionCommand, CreatePackageCommand, CreatePackageVersionCommand, GetPackageVersionCommand } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { s3Client } from '../support/s3.js';
import { json, minimalCycloneDx } from '../support/sbom-fixtures.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const BUCKET = 'quota-sboms';
const QUOTA_MESSAGE = 'Too many ongoing SBOM validation workflows. Please wait and retry';

/**
 * packages.md §9.6: with as many validations waiting or running as the configured limit,
 * AssociateSbomWithPackageVersion answers ServiceQuotaExceededException (402) and changes nothing.
 * The worker is paused so the first validation stays queued.
 */
for (const backend of await testBackends()) {
  describe(`SBOM validation quota (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let sbomVersion: string;

    before(async () => {
      t = await startTestServer(backend, { sbomValidation: { maxQueuedValidations: 1 } });
      s3 = s3Client(t, 'WHEN_REQUIRED');
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'app.cdx.json', Body: json(minimalCycloneDx()) }));
      assert.ok(put.VersionId);
      sbomVersion = put.VersionId;
      await t.iot.send(new CreatePackageCommand({ packageName: 'fw' }));
      for (const versionName of ['1.0', '2.0']) await t.iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName }));
    });
    after(async () => {
      t?.server.sbomValidation.resume();
      s3?.destroy();
      await t?.close();
    });

    const associate = (versionName: string, clientToken?: string) =>
      t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName, clientToken, sbom: { s3Location: { bucket: BUCKET, key: 'app.cdx.json', version: sbomVersion } } }));
    const getVersion = (versionName: string) => t.iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName }));

    it('refuses an association beyond the limit with 402 and leaves that version untouched', async () => {
      t.server.sbomValidation.pause();
      const token = randomUUID();
      try {
        assert.equal((await associate('1.0', token)).sbomValidationStatus, 'IN_PROGRESS');
        assert.deepEqual(t.server.sbomValidation.stats(), { queued: 1, running: 0 });

        await expectAwsError(associate('2.0'), 'ServiceQuotaExceededException', { status: 402, message: QUOTA_MESSAGE });
        const refused = await getVersion('2.0');
        assert.equal(refused.sbom, undefined);
        assert.equal(refused.sbomValidationStatus, undefined);

        // A retry of the accepted call replays its answer; re-associating the version whose
        // validation is still waiting replaces that job, so neither is refused.
        assert.equal((await associate('1.0', token)).sbomValidationStatus, 'IN_PROGRESS');
        assert.equal((await associate('1.0')).sbomValidationStatus, 'IN_PROGRESS');
        assert.deepEqual(t.server.sbomValidation.stats(), { queued: 1, running: 0 });
      } finally {
        t.server.sbomValidation.resume();
      }
      await t.server.sbomValidation.idle();
      assert.equal((await getVersion('1.0')).sbomValidationStatus, 'SUCCEEDED');

      // Once the validation has finished there is room again.
      assert.equal((await associate('2.0')).sbomValidationStatus, 'IN_PROGRESS');
      await t.server.sbomValidation.idle();
      assert.equal((await getVersion('2.0')).sbomValidationStatus, 'SUCCEEDED');
    });
  });
}
