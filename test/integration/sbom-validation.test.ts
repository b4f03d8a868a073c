import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DisassociateSbomFromPackageVersionCommand,
  GetPackageVersionCommand,
  ListSbomValidationResultsCommand,
  type SbomValidationResultSummary,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { restartTestServer } from '../support/restart.js';
import { s3Client } from '../support/s3.js';
import { json, minimalCycloneDx, minimalSpdx, npmSbom } from '../support/sbom-fixtures.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';
import { buildZip } from '../support/zip-writer.js';

const BUCKET = 'fleet-sboms';

/**
 * SBOM validation end to end (packages.md §9.3, §9.8): SBOMs uploaded through the embedded S3
 * API, associated through the IoT API, validated in the background; the outcome read back
 * through GetPackageVersion and ListSbomValidationResults. `server.sbomValidation.idle()` is the
 * deterministic "validation has finished" hook; `pause()` holds validations queued.
 */
for (const backend of await testBackends()) {
  describe(`SBOM validation (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let versionCount = 0;

    before(async () => {
      t = await startTestServer(backend, { sbomValidation: { maxFileBytes: 4 * 1024 * 1024 } });
      s3 = s3Client(t, 'WHEN_REQUIRED');
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
      await t.iot.send(new CreatePackageCommand({ packageName: 'fw' }));
    });
    after(async () => {
      s3?.destroy();
      await t?.close();
    });

    async function newVersion(): Promise<string> {
      const versionName = `1.0.${versionCount++}`;
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName }));
      return versionName;
    }

    async function upload(key: string, body: Buffer | string): Promise<string> {
      const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      assert.ok(out.VersionId);
      return out.VersionId;
    }

    const associate = (versionName: string, key: string, version: string) =>
      t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName, sbom: { s3Location: { bucket: BUCKET, key, version } } }));
    const status = async (versionName: string) => (await t.iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName }))).sbomValidationStatus;
    const results = async (versionName: string, validationResult?: 'SUCCEEDED' | 'FAILED', maxResults?: number) => {
      const all: SbomValidationResultSummary[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'fw', versionName, validationResult, maxResults, nextToken }));
        all.push(...(page.validationResultSummaries ?? []));
        nextToken = page.nextToken;
        pages++;
      } while (nextToken);
      return { all, pages };
    };

    it('validates a real npm SPDX SBOM: IN_PROGRESS, then SUCCEEDED with one result', async () => {
      const versionName = await newVersion();
      const version = await upload('fw/app.spdx.json', await npmSbom('spdx'));
      const answer = await associate(versionName, 'fw/app.spdx.json', version);
      assert.equal(answer.sbomValidationStatus, 'IN_PROGRESS');
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'SUCCEEDED');
      assert.deepEqual((await results(versionName)).all, [{ fileName: 'app.spdx.json', validationResult: 'SUCCEEDED' }]);
    });

    it('validates a real npm CycloneDX SBOM', async () => {
      const versionName = await newVersion();
      const version = await upload('fw/app.cdx.json', await npmSbom('cyclonedx'));
      await associate(versionName, 'fw/app.cdx.json', version);
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'SUCCEEDED');
    });

    it('fails a zip with one bad file, and lists, filters and pages the per-file results', async () => {
      const versionName = await newVersion();
      const zip = buildZip([
        { name: 'sboms/' },
        { name: 'sboms/app.spdx.json', data: await npmSbom('spdx'), method: 'deflate' },
        { name: 'sboms/app.cdx.json', data: await npmSbom('cyclonedx'), method: 'deflate' },
        ...['1.4', '1.5', '1.6'].map((v) => ({ name: `sboms/lib-${v}.cdx.json`, data: json(minimalCycloneDx(v)) })),
        { name: 'sboms/old.spdx.json', data: json(minimalSpdx('SPDX-2.1')) },
        { name: 'sboms/huge.json', data: Buffer.alloc(5 * 1024 * 1024, 0x20), method: 'deflate' },
        { name: '__MACOSX/sboms/._app.spdx.json', data: 'AppleDouble' },
      ]);
      const version = await upload('fw/bundle.zip', zip);
      await associate(versionName, 'fw/bundle.zip', version);
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'FAILED');

      const { all } = await results(versionName);
      assert.deepEqual(all.map((r) => r.fileName), [
        'sboms/app.cdx.json', 'sboms/app.spdx.json', 'sboms/huge.json', 'sboms/lib-1.4.cdx.json', 'sboms/lib-1.5.cdx.json', 'sboms/lib-1.6.cdx.json', 'sboms/old.spdx.json',
      ]);
      const failed = await results(versionName, 'FAILED');
      assert.deepEqual(failed.all.map((r) => [r.fileName, r.validationResult, r.errorCode]), [
        ['sboms/huge.json', 'FAILED', 'FILE_SIZE_LIMIT_EXCEEDED'],
        ['sboms/old.spdx.json', 'FAILED', 'INCOMPATIBLE_FORMAT'],
      ]);
      assert.match(failed.all[1].errorMessage!, /Unsupported SPDX version at \/spdxVersion: "SPDX-2.1"/);
      assert.match(failed.all[0].errorMessage!, /per-file limit is 4 MiB/);
      const succeeded = await results(versionName, 'SUCCEEDED', 2);
      assert.equal(succeeded.all.length, 5);
      assert.equal(succeeded.pages, 3);
      assert.ok(succeeded.all.every((r) => r.validationResult === 'SUCCEEDED' && r.errorCode === undefined && r.errorMessage === undefined));
      const paged = await results(versionName, undefined, 3);
      assert.deepEqual(paged.all, all);
    });

    it('reports schema errors with the JSON pointer of the problem', async () => {
      const versionName = await newVersion();
      const doc = minimalSpdx();
      delete (doc.creationInfo as Record<string, unknown>).creators;
      const version = await upload('fw/broken.spdx.json', json(doc));
      await associate(versionName, 'fw/broken.spdx.json', version);
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'FAILED');
      const [r] = (await results(versionName)).all;
      assert.equal(r.errorCode, 'INCOMPATIBLE_FORMAT');
      assert.match(r.errorMessage!, /at \/creationInfo\/creators: required member is missing/);
    });

    it('gives a re-association queued behind a validation only its own result', async () => {
      const versionName = await newVersion();
      const bad = await upload('fw/re-bad.json', '{"neither": true}');
      const good = await upload('fw/re-good.json', json(minimalCycloneDx()));
      t.server.sbomValidation.pause();
      try {
        await associate(versionName, 'fw/re-bad.json', bad);
        await associate(versionName, 'fw/re-good.json', good);
      } finally {
        t.server.sbomValidation.resume();
      }
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'SUCCEEDED');
      assert.deepEqual((await results(versionName)).all, [{ fileName: 're-good.json', validationResult: 'SUCCEEDED' }]);
    });

    it('never lets a validation that was running outlive a re-association', async () => {
      const versionName = await newVersion();
      // Large enough to still be validating when the second association arrives (the outcome
      // must be the same either way: only the latest association's result).
      const bigDoc = { ...minimalCycloneDx(), components: Array.from({ length: 20_000 }, (_, i) => ({ type: 'library', name: `c${i}`, version: '1.0.0' })), extra: 'invalid' };
      const big = await upload('fw/race-big.json', json(bigDoc));
      const small = await upload('fw/race-small.spdx.json', json(minimalSpdx()));
      await associate(versionName, 'fw/race-big.json', big);
      await associate(versionName, 'fw/race-small.spdx.json', small);
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'SUCCEEDED');
      assert.deepEqual((await results(versionName)).all, [{ fileName: 'race-small.spdx.json', validationResult: 'SUCCEEDED' }]);
    });

    it('drops the result of a validation whose SBOM was disassociated meanwhile', async () => {
      for (const paused of [true, false]) {
        const versionName = await newVersion();
        const version = await upload('fw/dis.json', json(minimalSpdx()));
        if (paused) t.server.sbomValidation.pause();
        await associate(versionName, 'fw/dis.json', version);
        await t.iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: 'fw', versionName }));
        t.server.sbomValidation.resume();
        await t.server.sbomValidation.idle();
        const got = await t.iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName }));
        assert.equal(got.sbom, undefined);
        assert.equal(got.sbomValidationStatus, undefined);
        assert.deepEqual((await results(versionName)).all, []);
      }
    });

    it('refuses a missing object at association, and fails one deleted before validation', async () => {
      const versionName = await newVersion();
      await expectAwsError(associate(versionName, 'fw/nowhere.json', 'v1'), 'ValidationException', { message: 'SBOM not accessible by the service' });
      const version = await upload('fw/deleted.json', json(minimalSpdx()));
      t.server.sbomValidation.pause();
      try {
        await associate(versionName, 'fw/deleted.json', version);
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'fw/deleted.json', VersionId: version }));
      } finally {
        t.server.sbomValidation.resume();
      }
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'FAILED');
      assert.deepEqual((await results(versionName)).all, [{
        fileName: 'deleted.json',
        validationResult: 'FAILED',
        errorMessage: 'SBOM not accessible by the service. Please make sure the bucket/key/version exists and S3 permission is granted.',
      }]);
    });

    it('answers ResourceNotFoundException for the results of a missing version', async () => {
      await expectAwsError(t.iot.send(new ListSbomValidationResultsCommand({ packageName: 'fw', versionName: 'no-such-version' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('finishes a validation that was pending when the server stopped, after a restart', async () => {
      const versionName = await newVersion();
      const version = await upload('fw/restart.cdx.json', json(minimalCycloneDx('1.5')));
      t.server.sbomValidation.pause();
      await associate(versionName, 'fw/restart.cdx.json', version);
      assert.deepEqual(t.server.sbomValidation.stats(), { queued: 1, running: 0 });
      s3.destroy();
      t = await restartTestServer(t, backend);
      s3 = s3Client(t, 'WHEN_REQUIRED');
      await t.server.sbomValidation.idle();
      assert.equal(await status(versionName), 'SUCCEEDED');
      assert.deepEqual((await results(versionName)).all, [{ fileName: 'restart.cdx.json', validationResult: 'SUCCEEDED' }]);
    });
  });
}
