import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreatePackageCommand, DescribeJobExecutionCommand as DescribeExecutionControl, GetPackageCommand } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { DescribeJobExecutionCommand, StartNextPendingJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { testBackends } from '../support/backends.js';
import { groupArn, jobsDataClient, seedGroup, thingArn } from '../support/jobs.js';
import { presignUrl, sendSigned, type RawResponse } from '../support/raw-signed-http.js';
import { putTestObject, s3Client } from '../support/s3.js';
import { expectAwsError, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const ROLE = 'arn:aws:iam::123456789012:role/presign';
const UNSIGNED = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };

function assertJsonDenied(res: RawResponse, errorType: string, message?: RegExp): void {
  assert.equal(res.status, 403, res.text);
  assert.equal(res.headers['x-amzn-errortype'], errorType, res.text);
  if (message) assert.match(String(res.json?.message), message);
}

function assertS3Error(res: { status: number; text: string }, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.text, new RegExp(`<Code>${code}</Code>`), res.text);
}

/**
 * What a signature must cover (issue 8, items 1-4): every x-amz-* header, host, and the body; and
 * a request is authenticated before it learns whether its route exists. Each case changes nothing.
 */
for (const backend of await testBackends()) {
  describe(`signature coverage (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let devices: IoTJobsDataPlaneClient;
    let shadows: IoTDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      s3 = s3Client(t);
      devices = jobsDataClient(t);
      shadows = new IoTDataPlaneClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      await putTestObject(t, 'private-bucket', 'secret.key', 'the fleet signing key');
      await putTestObject(t, 'device-logs', 'placeholder', 'x');
      await t.iot.send(new CreatePackageCommand({ packageName: 'sig-pkg', description: 'original' }));
      await seedGroup(t, 'sig-fleet', ['sig-1', 'sig-2']);
    });
    after(async () => {
      s3?.destroy();
      devices?.destroy();
      shadows?.destroy();
      await t?.close();
    });

    async function missing(bucket: string, key: string): Promise<void> {
      await expectAwsError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 'NotFound');
    }

    it('refuses a presigned upload URL carrying an unsigned x-amz-copy-source, or any other x-amz-* header', async () => {
      const document = JSON.stringify({ upload: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/device-logs/${thingName}.log}' });
      await t.iot.send(new CreateJobCommand({ jobId: 'sig-upload', targets: [thingArn('sig-1')], document, presignedUrlConfig: { roleArn: ROLE, expiresInSec: 300 } }));
      const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'sig-1' }));
      const url = (JSON.parse(started.execution!.jobDocument!) as { upload: string }).upload;

      // The probe's exploit: the device's own upload URL turned into a copy of another bucket's secret.
      const copy = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': '/private-bucket/secret.key' } });
      const text = await copy.text();
      assertS3Error({ status: copy.status, text }, 403, 'AccessDenied');
      assert.match(text, /<HeadersNotSigned>x-amz-copy-source<\/HeadersNotSigned>/);
      await missing('device-logs', 'sig-1.log');

      for (const [name, value] of [['x-amz-metadata-directive', 'REPLACE'], ['x-amz-acl', 'public-read'], ['x-amz-meta-owner', 'me'], ['x-amz-anything', '1']]) {
        const res = await fetch(url, { method: 'PUT', body: 'log', headers: { [name]: value } });
        assertS3Error({ status: res.status, text: await res.text() }, 403, 'AccessDenied');
        await missing('device-logs', 'sig-1.log');
      }
      // The URL still does what it was signed for.
      const plain = await fetch(url, { method: 'PUT', body: 'the log of sig-1' });
      assert.equal(plain.status, 200, await plain.text());
      const stored = await s3.send(new GetObjectCommand({ Bucket: 'device-logs', Key: 'sig-1.log' }));
      assert.equal(await stored.Body!.transformToString(), 'the log of sig-1');
    });

    it('refuses unsigned x-amz-* headers on client-presigned URLs and header-signed requests', async () => {
      const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'private-bucket', Key: 'secret.key' }), { expiresIn: 60 });
      assert.equal((await fetch(get)).status, 200);
      const extra = await fetch(get, { headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } });
      assertS3Error({ status: extra.status, text: await extra.text() }, 403, 'AccessDenied');

      // Header-signed: an x-amz-* header added after signing is refused by every API.
      const s3Res = await sendSigned(t.url, { method: 'PUT', path: '/private-bucket/copied', headers: { 'content-type': null } }, { service: 's3', addAfterSigning: { 'x-amz-copy-source': '/private-bucket/secret.key' } });
      assertS3Error(s3Res, 403, 'AccessDenied');
      await missing('private-bucket', 'copied');
      const iotRes = await sendSigned(t.url, { method: 'PATCH', path: '/packages/sig-pkg', body: '{"description":"changed"}' }, { addAfterSigning: { 'x-amz-extra': 'x' } });
      assertJsonDenied(iotRes, 'IncompleteSignatureException', /not signed: x-amz-extra/);
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-pkg' }))).description, 'original');
    });

    it('checks the body of every non-S3 request against the signature, UNSIGNED-PAYLOAD or not', async () => {
      const signed = '{"description":"signed body"}';
      const swapped = '{"description":"swapped body"}';
      // Control plane: UpdatePackage with its body replaced after signing.
      const iot = await sendSigned(t.url, { method: 'PATCH', path: '/packages/sig-pkg', body: swapped, headers: UNSIGNED }, { signedBody: signed, contentSha256Header: false });
      assertJsonDenied(iot, 'InvalidSignatureException', /x-amz-content-sha256/);
      // UNSIGNED-PAYLOAD is refused even when the body is the one the client had.
      const marker = await sendSigned(t.url, { method: 'PATCH', path: '/packages/sig-pkg', body: signed, headers: UNSIGNED }, { contentSha256Header: false });
      assertJsonDenied(marker, 'InvalidSignatureException');
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-pkg' }))).description, 'original');

      // Device Shadow.
      const shadow = await sendSigned(t.url, { method: 'POST', path: '/things/sig-2/shadow', body: '{"state":{"reported":{"evil":1}}}', headers: UNSIGNED },
        { service: 'iotdata', signedBody: '{"state":{"reported":{"ok":1}}}', contentSha256Header: false });
      assertJsonDenied(shadow, 'InvalidSignatureException');
      await expectAwsError(shadows.send(new GetThingShadowCommand({ thingName: 'sig-2' })), 'ResourceNotFoundException');

      // Jobs data plane: StartNext and UpdateJobExecution.
      await t.iot.send(new CreateJobCommand({ jobId: 'sig-job', targets: [groupArn('sig-fleet')], document: '{}' }));
      const startNext = await sendSigned(t.url, { method: 'PUT', path: '/things/sig-2/jobs/%24next', body: '{"statusDetails":{"evil":"1"}}', headers: UNSIGNED },
        { service: 'iot-jobs-data', signedBody: '{}', contentSha256Header: false });
      assertJsonDenied(startNext, 'InvalidSignatureException');
      const update = await sendSigned(t.url, { method: 'POST', path: '/things/sig-2/jobs/sig-job', body: '{"status":"FAILED"}', headers: UNSIGNED },
        { service: 'iot-jobs-data', signedBody: '{"status":"IN_PROGRESS"}', contentSha256Header: false });
      assertJsonDenied(update, 'InvalidSignatureException');
      const after = await devices.send(new DescribeJobExecutionCommand({ thingName: 'sig-2', jobId: 'sig-job' }));
      assert.equal(after.execution?.status, 'QUEUED');
      assert.equal(after.execution?.versionNumber, 1);

      // A wrong hex digest is refused the same way; the right one (what the JS SDK sends) works.
      const wrongHash = await sendSigned(t.url, { method: 'PATCH', path: '/packages/sig-pkg', body: swapped }, { signedBody: signed });
      assertJsonDenied(wrongHash, 'InvalidSignatureException');
      const ok = await sendSigned(t.url, { method: 'PATCH', path: '/packages/sig-pkg', body: signed });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-pkg' }))).description, 'signed body');
    });

    it('checks the body of a presigned control-plane request', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'sig-presigned', description: 'original' }));
      const body = '{"description":"presigned body"}';
      const url = await presignUrl(t.url, { method: 'PATCH', path: '/packages/sig-presigned', body });
      const send = (b: string) => fetch(url, { method: 'PATCH', body: b, headers: { 'content-type': 'application/json' } });
      const tampered = await send('{"description":"another body"}');
      assert.equal(tampered.status, 403, await tampered.text());
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-presigned' }))).description, 'original');
      // A URL presigned without a body takes none.
      const bodiless = await presignUrl(t.url, { method: 'PATCH', path: '/packages/sig-presigned' });
      const smuggled = await fetch(bodiless, { method: 'PATCH', body, headers: { 'content-type': 'application/json' } });
      assert.equal(smuggled.status, 403, await smuggled.text());
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-presigned' }))).description, 'original');
      const right = await send(body);
      assert.equal(right.status, 200, await right.text());
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-presigned' }))).description, 'presigned body');
    });

    it('requires x-amz-content-sha256 on header-signed S3 requests, and a valid value', async () => {
      const put = await sendSigned(t.url, { method: 'PUT', path: '/private-bucket/no-hash', body: 'stored without a hash', headers: { 'content-type': 'application/octet-stream' } },
        { service: 's3', contentSha256Header: false });
      assertS3Error(put, 400, 'InvalidRequest');
      assert.match(put.text, /Missing required header for this request: x-amz-content-sha256/);
      await missing('private-bucket', 'no-hash');
      const bogus = await sendSigned(t.url, { method: 'PUT', path: '/private-bucket/bogus-hash', body: 'x', headers: { 'content-type': 'application/octet-stream', 'x-amz-content-sha256': 'not-a-hash' } },
        { service: 's3', contentSha256Header: false });
      assertS3Error(bogus, 400, 'InvalidArgument');
      await missing('private-bucket', 'bogus-hash');
      // A streamed body whose digest does not match is refused once read.
      const mismatch = await sendSigned(t.url, { method: 'PUT', path: '/private-bucket/mismatch', body: 'the real body', headers: { 'content-type': 'application/octet-stream' } },
        { service: 's3', signedBody: 'another body' });
      assertS3Error(mismatch, 400, 'XAmzContentSHA256Mismatch');
      await missing('private-bucket', 'mismatch');
      // S3 alone takes UNSIGNED-PAYLOAD.
      const unsigned = await sendSigned(t.url, { method: 'PUT', path: '/private-bucket/unsigned', body: 'unsigned payload', headers: { 'content-type': 'application/octet-stream', ...UNSIGNED } },
        { service: 's3', contentSha256Header: false });
      assert.equal(unsigned.status, 200, unsigned.text);
    });

    it('requires host among the signed headers', async () => {
      // The probe's request: signed over x-amz-content-sha256;x-amz-date only, sent to another host.
      const iot = await sendSigned(t.url, { method: 'PATCH', path: '/packages/sig-pkg', body: '{"description":"hostless"}' },
        { unsigned: ['host', 'content-type', 'content-length'], addAfterSigning: { host: 'attacker.example' } });
      assertJsonDenied(iot, 'IncompleteSignatureException', /'Host' or ':authority' must be a 'SignedHeader'/);
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'sig-pkg' }))).description, 'signed body');
      const s3Res = await sendSigned(t.url, { method: 'GET', path: '/private-bucket/secret.key' }, { service: 's3', unsigned: ['host'] });
      assertS3Error(s3Res, 403, 'AccessDenied');
      assert.match(s3Res.text, /<HeadersNotSigned>host<\/HeadersNotSigned>/);
    });

    it('authenticates before routing: without a valid signature no route is told apart', async () => {
      const stranger = { credentials: { accessKeyId: 'AKIASTRANGER00000000', secretAccessKey: 'x' } };
      const wrongSecret = { credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' } };
      for (const req of [
        { method: 'GET', path: '/no/such/route' },
        { method: 'DELETE', path: '/packages' },
        { method: 'PATCH', path: '/packages/sig-pkg', body: 'not json' },
        { method: 'PUT', path: '/jobs/x', body: '{"targets":5}' },
      ]) {
        assertJsonDenied(await sendSigned(t.url, req, stranger), 'UnrecognizedClientException');
        assertJsonDenied(await sendSigned(t.url, req, wrongSecret), 'InvalidSignatureException');
      }
      // Once authenticated, the caller learns what is there.
      const unknown = await sendSigned(t.url, { method: 'GET', path: '/no/such/route' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.headers['x-amzn-errortype'], 'UnknownOperationException');
      const control = await t.iot.send(new DescribeExecutionControl({ jobId: 'sig-job', thingName: 'sig-1' }));
      assert.equal(control.execution?.status, 'QUEUED');
    });
  });
}
