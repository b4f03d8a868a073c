import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageVersionCommand,
  DisassociateSbomFromPackageVersionCommand,
  GetPackageConfigurationCommand,
  GetPackageVersionCommand,
  ListPackageVersionsCommand,
  ListSbomValidationResultsCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
  type Sbom,
  type SbomValidationResult,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { putTestObject } from '../support/s3.js';
import { json, minimalSpdx } from '../support/sbom-fixtures.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const SBOM_STATUSES = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED'];

/**
 * SBOM association (packages.md §9.4–9.6) and the package configuration (§10). Validation of the
 * SBOM contents is another capability: these tests check the association itself, not the outcome.
 */
for (const backend of await testBackends()) {
  describe(`SBOM association and package configuration (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    // Two versions of one SBOM object, uploaded first: the service checks that the object exists.
    let SBOM: Sbom;
    let NEWER: Sbom;
    before(async () => {
      t = await startTestServer(backend);
      const location = { bucket: 'sboms', key: 'fw/1.0.0.spdx.json' };
      SBOM = { s3Location: { ...location, version: await putTestObject(t, location.bucket, location.key, json(minimalSpdx())) } };
      NEWER = { s3Location: { ...location, version: await putTestObject(t, location.bucket, location.key, json(minimalSpdx())) } };
      await t.iot.send(new CreatePackageCommand({ packageName: 'sb' }));
      for (const v of ['draft', 'pub', 'dep', 'replace', 'empty', 'gone', 'invalid']) {
        await t.iot.send(new CreatePackageVersionCommand({ packageName: 'sb', versionName: v }));
      }
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'sb', versionName: 'pub', action: 'PUBLISH' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'sb', versionName: 'dep', action: 'PUBLISH' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'sb', versionName: 'dep', action: 'DEPRECATE' }));
    });
    after(async () => t?.close());

    const get = (versionName: string) => t.iot.send(new GetPackageVersionCommand({ packageName: 'sb', versionName }));
    const associate = (versionName: string, sbom: Sbom | undefined, packageName = 'sb') =>
      t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName, versionName, sbom: sbom as Sbom }));

    it('associates an SBOM in every state: IN_PROGRESS, echoed, and shown by GetPackageVersion', async () => {
      for (const [versionName, status] of [['draft', 'DRAFT'], ['pub', 'PUBLISHED'], ['dep', 'DEPRECATED']]) {
        const out = await associate(versionName, SBOM);
        assert.equal(out.$metadata.httpStatusCode, 200);
        assert.equal(out.packageName, 'sb');
        assert.equal(out.versionName, versionName);
        assert.deepEqual(out.sbom, SBOM);
        assert.equal(out.sbomValidationStatus, 'IN_PROGRESS');

        const got = await get(versionName);
        assert.deepEqual(got.sbom, SBOM);
        assert.ok(SBOM_STATUSES.includes(got.sbomValidationStatus ?? ''), `status ${got.sbomValidationStatus}`);
        assert.equal(got.status, status, 'associating never changes the lifecycle state');
      }
      // Associating never creates a version.
      const versions = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'sb' }));
      assert.equal(versions.packageVersionSummaries?.length, 7);
    });

    it('replaces an earlier SBOM on a new association', async () => {
      await associate('replace', SBOM);
      const newer = NEWER;
      const out = await associate('replace', newer);
      assert.deepEqual(out.sbom, newer);
      assert.equal(out.sbomValidationStatus, 'IN_PROGRESS');
      assert.deepEqual((await get('replace')).sbom, newer);
    });

    it('answers 404 when the package or version is missing', async () => {
      await expectAwsError(associate('missing', SBOM), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(associate('draft', SBOM, 'sb-missing'), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: 'sb', versionName: 'missing' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'sb', versionName: 'missing' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'sb-missing', versionName: 'draft' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('refuses incomplete SBOM references with the documented messages', async () => {
      const cases: [Sbom | undefined, string][] = [
        [undefined, 'Associate request needs to include SBOM reference'],
        [{} as Sbom, 'Associate request needs to include SBOM reference'],
        [{ s3Location: { bucket: 'b', key: 'k' } }, 'S3 object version for SBOM cannot be null'],
        [{ s3Location: { key: 'k', version: 'v' } } as Sbom, 'S3 bucket name for SBOM cannot be null'],
        [{ s3Location: { bucket: 'b', version: 'v' } } as Sbom, 'S3 key name for SBOM cannot be null'],
        [{ s3Location: { bucket: 'b'.repeat(64), key: 'k', version: 'v' } }, 'S3 bucket name for SBOM is illegal. String length exceeds limit'],
      ];
      for (const [sbom, message] of cases) {
        await expectAwsError(associate('invalid', sbom), 'ValidationException', { status: 400, message });
      }
      const got = await get('invalid');
      assert.equal(got.sbom, undefined);
      assert.equal(got.sbomValidationStatus, undefined);
    });

    it('disassociates: clears sbom and status; without an SBOM it is a no-op 200', async () => {
      await associate('gone', SBOM);
      const out = await t.iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: 'sb', versionName: 'gone' }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      const got = await get('gone');
      assert.equal(got.sbom, undefined);
      assert.equal(got.sbomValidationStatus, undefined);
      const results = await t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'sb', versionName: 'gone' }));
      assert.deepEqual(results.validationResultSummaries ?? [], []);

      const again = await t.iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: 'sb', versionName: 'gone' }));
      assert.equal(again.$metadata.httpStatusCode, 200);
    });

    it('lists no validation results for a version without an SBOM, and checks the filter', async () => {
      const out = await t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'sb', versionName: 'empty' }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.deepEqual(out.validationResultSummaries ?? [], []);
      assert.equal(out.nextToken, undefined);
      const failed = await t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'sb', versionName: 'empty', validationResult: 'FAILED' }));
      assert.deepEqual(failed.validationResultSummaries ?? [], []);
      await expectAwsError(
        t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'sb', versionName: 'empty', validationResult: 'BOGUS' as SbomValidationResult })),
        'ValidationException', { status: 400, message: 'Member must satisfy enum value set: [FAILED, SUCCEEDED]' });
    });

    it('drops the SBOM with its version', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'sb', versionName: 'recreated' }));
      await associate('recreated', SBOM);
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'sb', versionName: 'recreated' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'sb', versionName: 'recreated' }));
      const got = await get('recreated');
      assert.equal(got.sbom, undefined);
      assert.equal(got.sbomValidationStatus, undefined);
    });

    it('reports the package configuration as disabled until it is set', async () => {
      const out = await t.iot.send(new GetPackageConfigurationCommand({}));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.deepEqual(out.versionUpdateByJobsConfig, { enabled: false });
    });

    it('needs a roleArn to enable version updates by jobs', async () => {
      await expectAwsError(t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true } })), 'ValidationException', { status: 400 });
      await expectAwsError(
        t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:too-short' } })),
        'ValidationException', { status: 400, message: "Value 'arn:too-short' at 'versionUpdateByJobsConfig.roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20" });
      assert.deepEqual((await t.iot.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig, { enabled: false });

      const roleArn = 'arn:aws:iam::123456789012:role/aws-iot-role-update-shadows';
      const updated = await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn } }));
      assert.equal(updated.$metadata.httpStatusCode, 200);
      assert.deepEqual((await t.iot.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig, { enabled: true, roleArn });

      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: false } }));
      assert.equal((await t.iot.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig?.enabled, false);
      // With a role already stored, enabling again needs none in the request.
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true } }));
      assert.deepEqual((await t.iot.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig, { enabled: true, roleArn });
    });
  });
}
