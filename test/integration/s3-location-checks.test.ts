import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageVersionCommand,
  GetPackageVersionCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { notAccessible, putTestObject, s3Client } from '../support/s3.js';
import { json, minimalSpdx } from '../support/sbom-fixtures.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

/**
 * The catalog checks that artifact and SBOM objects exist, as AWS does at CreatePackageVersion,
 * UpdatePackageVersion and AssociateSbomWithPackageVersion (packages.md §5, §9.6), here against the
 * embedded object store.
 */
for (const backend of await testBackends()) {
  describe(`artifact and SBOM location checks (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let artifactVersion: string;
    let sbomVersion: string;
    before(async () => {
      t = await startTestServer(backend);
      s3 = s3Client(t);
      artifactVersion = (await putTestObject(t, 'artifacts', 'fw/1.0.bin', 'firmware'))!;
      sbomVersion = (await putTestObject(t, 'sboms', 'fw/1.0.spdx.json', json(minimalSpdx())))!;
      await s3.send(new CreateBucketCommand({ Bucket: 'plain-bucket' }));
      await s3.send(new PutObjectCommand({ Bucket: 'plain-bucket', Key: 'unversioned.bin', Body: 'x' }));
      await t.iot.send(new CreatePackageCommand({ packageName: 'checked' }));
    });
    after(async () => {
      s3?.destroy();
      await t?.close();
    });

    const create = (versionName: string, s3Location: { bucket: string; key: string; version?: string }) =>
      t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName, artifact: { s3Location } }));

    it('refuses CreatePackageVersion when the artifact bucket, key or version is missing, and creates nothing', async () => {
      await expectAwsError(create('no-bucket', { bucket: 'no-such-bucket', key: 'fw/1.0.bin', version: artifactVersion }), 'ValidationException', { status: 400, message: notAccessible('Artifact', 'bucket') });
      await expectAwsError(create('no-key', { bucket: 'artifacts', key: 'fw/missing.bin' }), 'ValidationException', { status: 400, message: notAccessible('Artifact', 'key') });
      await expectAwsError(create('no-version', { bucket: 'artifacts', key: 'fw/1.0.bin', version: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 'ValidationException', {
        status: 400, message: notAccessible('Artifact', 'bucket/key/version'),
      });
      for (const v of ['no-bucket', 'no-key', 'no-version']) {
        await expectAwsError(t.iot.send(new GetPackageVersionCommand({ packageName: 'checked', versionName: v })), 'ResourceNotFoundException');
      }
    });

    it('accepts an artifact that exists: a given version, the latest, or an unversioned object', async () => {
      await create('pinned', { bucket: 'artifacts', key: 'fw/1.0.bin', version: artifactVersion });
      await create('latest', { bucket: 'artifacts', key: 'fw/1.0.bin' });
      await create('unversioned', { bucket: 'plain-bucket', key: 'unversioned.bin' });
      const got = await t.iot.send(new GetPackageVersionCommand({ packageName: 'checked', versionName: 'pinned' }));
      assert.deepEqual(got.artifact, { s3Location: { bucket: 'artifacts', key: 'fw/1.0.bin', version: artifactVersion } });
    });

    it('treats a key hidden by a delete marker as missing, and checks UpdatePackageVersion too', async () => {
      await putTestObject(t, 'artifacts', 'fw/deleted.bin', 'soon gone');
      await s3.send(new DeleteObjectCommand({ Bucket: 'artifacts', Key: 'fw/deleted.bin' }));
      await expectAwsError(create('deleted', { bucket: 'artifacts', key: 'fw/deleted.bin' }), 'ValidationException', { message: notAccessible('Artifact', 'key') });

      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName: 'to-update' }));
      await expectAwsError(
        t.iot.send(new UpdatePackageVersionCommand({ packageName: 'checked', versionName: 'to-update', artifact: { s3Location: { bucket: 'artifacts', key: 'fw/deleted.bin' } } })),
        'ValidationException', { message: notAccessible('Artifact', 'key') });
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'checked', versionName: 'to-update' }))).artifact, undefined);
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'checked', versionName: 'to-update', artifact: { s3Location: { bucket: 'artifacts', key: 'fw/1.0.bin', version: artifactVersion } } }));
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'checked', versionName: 'to-update' }))).artifact?.s3Location?.version, artifactVersion);
    });

    it('associates an SBOM only when its object version exists, with the documented texts', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName: 'with-sbom' }));
      const associate = (s3Location: { bucket: string; key: string; version: string }) =>
        t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'checked', versionName: 'with-sbom', sbom: { s3Location } }));
      await expectAwsError(associate({ bucket: 'sboms', key: 'fw/1.0.spdx.json', version: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 'ValidationException', {
        status: 400, message: notAccessible('SBOM', 'bucket/key/version'),
      });
      await expectAwsError(associate({ bucket: 'no-sbom-bucket', key: 'fw/1.0.spdx.json', version: sbomVersion }), 'ValidationException', { message: notAccessible('SBOM', 'bucket') });
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'checked', versionName: 'with-sbom' }))).sbom, undefined);

      const out = await associate({ bucket: 'sboms', key: 'fw/1.0.spdx.json', version: sbomVersion });
      assert.deepEqual(out.sbom, { s3Location: { bucket: 'sboms', key: 'fw/1.0.spdx.json', version: sbomVersion } });
    });

    it('tells a missing package or a frozen artifact before a missing object', async () => {
      await expectAwsError(
        t.iot.send(new CreatePackageVersionCommand({ packageName: 'nope', versionName: 'v', artifact: { s3Location: { bucket: 'no-such-bucket', key: 'k' } } })),
        'ValidationException', { message: 'Package nope does not exist; create the package before its versions.' });
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName: 'published' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'checked', versionName: 'published', action: 'PUBLISH' }));
      await expectAwsError(
        t.iot.send(new UpdatePackageVersionCommand({ packageName: 'checked', versionName: 'published', artifact: { s3Location: { bucket: 'no-such-bucket', key: 'k' } } })),
        'ConflictException', { status: 409 });
      await expectAwsError(
        t.iot.send(new UpdatePackageVersionCommand({ packageName: 'checked', versionName: 'missing', artifact: { s3Location: { bucket: 'no-such-bucket', key: 'k' } } })),
        'ResourceNotFoundException', { status: 404 });
    });

    it('replays a retried call that succeeded even after its object or version is gone', async () => {
      const objectVersion = (await putTestObject(t, 'artifacts', 'fw/retry.bin', 'retried firmware'))!;
      const location = { bucket: 'artifacts', key: 'fw/retry.bin', version: objectVersion };
      const clientToken = 'retry-token-0000-0000-0000-000000000001';
      const first = await t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName: 'retried', artifact: { s3Location: location }, clientToken }));
      await s3.send(new DeleteObjectCommand({ Bucket: 'artifacts', Key: 'fw/retry.bin', VersionId: objectVersion }));
      const again = await t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName: 'retried', artifact: { s3Location: location }, clientToken }));
      assert.equal(again.packageVersionArn, first.packageVersionArn);
      assert.equal(again.status, 'DRAFT');
      // A new token is a new call: that one is checked, and refused.
      await expectAwsError(
        t.iot.send(new CreatePackageVersionCommand({ packageName: 'checked', versionName: 'retried-2', artifact: { s3Location: location } })),
        'ValidationException', { message: notAccessible('Artifact', 'bucket/key/version') });

      const sbomToken = 'retry-token-0000-0000-0000-000000000002';
      const sbom = { s3Location: { bucket: 'sboms', key: 'fw/1.0.spdx.json', version: sbomVersion } };
      const associated = await t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'checked', versionName: 'retried', sbom, clientToken: sbomToken }));
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'checked', versionName: 'retried' }));
      const replayed = await t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'checked', versionName: 'retried', sbom, clientToken: sbomToken }));
      assert.deepEqual(replayed.sbom, associated.sbom);
      assert.equal(replayed.sbomValidationStatus, 'IN_PROGRESS');
      await expectAwsError(t.iot.send(new GetPackageVersionCommand({ packageName: 'checked', versionName: 'retried' })), 'ResourceNotFoundException');
    });
  });
}
