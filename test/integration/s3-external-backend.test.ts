import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AssociateSbomWithPackageVersionCommand, CreateJobCommand, CreatePackageCommand, CreatePackageVersionCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { groupArn, jobsDataClient, seedGroup } from '../support/jobs.js';
import { motoSkipReason, startMoto, type MotoServer } from '../support/moto.js';
import { notAccessible, s3Client } from '../support/s3.js';
import { json, minimalSpdx } from '../support/sbom-fixtures.js';
import { expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const motoSkip = motoSkipReason();
const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * The external S3 backend (--s3-endpoint) against an independent S3 implementation, moto_server:
 * location checks, documentSource reads and presigned URLs all go to it, and the embedded S3 API
 * is not served.
 */
for (const backend of await testBackends()) {
  describe(`external S3 backend on moto_server (${backend.name})`, { skip: backend.skip ?? motoSkip }, () => {
    let moto: MotoServer;
    let remote: S3Client;
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    const versions: string[] = [];
    before(async () => {
      moto = await startMoto();
      remote = new S3Client({ endpoint: moto.url, region: REGION, credentials: MOTO_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
      await remote.send(new CreateBucketCommand({ Bucket: 'remote-artifacts' }));
      await remote.send(new PutBucketVersioningCommand({ Bucket: 'remote-artifacts', VersioningConfiguration: { Status: 'Enabled' } }));
      for (const body of ['remote v1', 'remote v2']) versions.push((await remote.send(new PutObjectCommand({ Bucket: 'remote-artifacts', Key: 'fw/app.bin', Body: body }))).VersionId!);
      versions.push((await remote.send(new PutObjectCommand({ Bucket: 'remote-artifacts', Key: 'fw/app.spdx.json', Body: json(minimalSpdx()) }))).VersionId!);
      await remote.send(new PutObjectCommand({
        Bucket: 'remote-artifacts', Key: 'jobs/install.json',
        Body: JSON.stringify({ url: `\${aws:iot:s3-presigned-url-v2:https://s3.${REGION}.amazonaws.com/remote-artifacts/fw/app.bin%3FversionId%3D${versions[0]}}` }),
      }));
      t = await startTestServer(backend, {}, {
        FLEETJOBS_S3_ENDPOINT: moto.url,
        FLEETJOBS_S3_FORCE_PATH_STYLE: '1',
        FLEETJOBS_S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        FLEETJOBS_S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      });
      devices = jobsDataClient(t);
      await t.iot.send(new CreatePackageCommand({ packageName: 'remote' }));
    });
    after(async () => {
      devices?.destroy();
      remote?.destroy();
      await t?.close();
      await moto?.stop();
    });

    it('checks artifact and SBOM locations in the external S3', async () => {
      const create = (versionName: string, s3Location: { bucket: string; key: string; version?: string }) =>
        t.iot.send(new CreatePackageVersionCommand({ packageName: 'remote', versionName, artifact: { s3Location } }));
      await create('pinned', { bucket: 'remote-artifacts', key: 'fw/app.bin', version: versions[0] });
      await create('latest', { bucket: 'remote-artifacts', key: 'fw/app.bin' });
      await expectAwsError(create('no-bucket', { bucket: 'remote-missing', key: 'fw/app.bin' }), 'ValidationException', { message: notAccessible('Artifact', 'bucket') });
      await expectAwsError(create('no-key', { bucket: 'remote-artifacts', key: 'fw/none.bin' }), 'ValidationException', { message: notAccessible('Artifact', 'key') });
      await expectAwsError(create('no-version', { bucket: 'remote-artifacts', key: 'fw/app.bin', version: '00000000-0000-0000-0000-000000000000' }), 'ValidationException', {
        message: notAccessible('Artifact', 'bucket/key/version'),
      });

      const sbom = (version: string) =>
        t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'remote', versionName: 'pinned', sbom: { s3Location: { bucket: 'remote-artifacts', key: 'fw/app.spdx.json', version } } }));
      await expectAwsError(sbom('00000000-0000-0000-0000-000000000000'), 'ValidationException', { message: notAccessible('SBOM', 'bucket/key/version') });
      assert.equal((await sbom(versions[2])).sbomValidationStatus, 'IN_PROGRESS');
    });

    it('reads documentSource from the external S3 and gives devices URLs presigned for it', async () => {
      await seedGroup(t, 'remote-fleet', ['remote-1']);
      const source = 'https://s3.amazonaws.com/remote-artifacts/jobs/install.json';
      await t.iot.send(new CreateJobCommand({
        jobId: 'remote-doc', targets: [groupArn('remote-fleet')], documentSource: source,
        presignedUrlConfig: { roleArn: 'arn:aws:iam::123456789012:role/presign', expiresInSec: 300 },
      }));
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'remote-doc' }))).documentSource, source);
      await expectAwsError(t.iot.send(new CreateJobCommand({ jobId: 'remote-missing-doc', targets: [groupArn('remote-fleet')], documentSource: 'https://s3.amazonaws.com/remote-artifacts/jobs/none.json' })),
        'InvalidRequestException', { status: 400 });

      const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'remote-1' }));
      const url = (JSON.parse(started.execution!.jobDocument!) as { url: string }).url;
      assert.ok(url.startsWith(`${moto.url}/remote-artifacts/fw/app.bin?`), url);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'remote v1');
    });

    it('gives devices upload URLs presigned for the external S3', async () => {
      await remote.send(new CreateBucketCommand({ Bucket: 'remote-uploads' }));
      await seedGroup(t, 'remote-uploaders', ['remote-up-1']);
      await t.iot.send(new CreateJobCommand({
        jobId: 'remote-upload', targets: [groupArn('remote-uploaders')],
        document: JSON.stringify({ upload: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/remote-uploads/${thingName}/report.txt}' }),
        presignedUrlConfig: { roleArn: 'arn:aws:iam::123456789012:role/presign', expiresInSec: 300 },
      }));
      const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'remote-up-1' }));
      const url = (JSON.parse(started.execution!.jobDocument!) as { upload: string }).upload;
      assert.ok(url.startsWith(`${moto.url}/remote-uploads/remote-up-1/report.txt?`), url);
      const put = await fetch(url, { method: 'PUT', body: 'uploaded by remote-up-1' });
      assert.equal(put.status, 200, await put.text());
      const got = await remote.send(new GetObjectCommand({ Bucket: 'remote-uploads', Key: 'remote-up-1/report.txt' }));
      assert.equal(await got.Body!.transformToString(), 'uploaded by remote-up-1');
    });

    it('does not serve the embedded S3 API when an external S3 is configured', async () => {
      const local = s3Client(t);
      try {
        const err = await local.send(new ListBucketsCommand({})).then(() => undefined, (e: { $metadata?: { httpStatusCode?: number } }) => e);
        assert.ok(err, 'ListBuckets on fleetjobs must fail');
        assert.equal(err.$metadata?.httpStatusCode, 403);
      } finally {
        local.destroy();
      }
    });
  });
}
