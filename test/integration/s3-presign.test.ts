import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreatePackageCommand, CreatePackageVersionCommand, GetJobDocumentCommand, UpdatePackageVersionCommand } from '@aws-sdk/client-iot';
import { DescribeJobExecutionCommand, StartNextPendingJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { VirtualClock } from '../../src/clock.js';
import { testBackends } from '../support/backends.js';
import { groupArn, jobsDataClient, packageVersionArn, seedGroup } from '../support/jobs.js';
import { putTestObject, s3Client } from '../support/s3.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ROLE = 'arn:aws:iam::123456789012:role/presign';
const curlMissing = spawnSync('curl', ['--version']).error ? 'curl is not on PATH' : undefined;

/** GET with no headers of our own, as a device's HTTP client would. */
async function download(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** curl in a child process (asynchronously: the server answering it runs in this process). */
function curl(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      const at = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(at + 1)), body: out.slice(0, at) });
    });
  });
}

/** The URL a device receives for the first job execution of `thing`, from the job document's `url` field. */
async function deviceUrl(devices: IoTJobsDataPlaneClient, thing: string): Promise<string> {
  const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing }));
  return (JSON.parse(started.execution!.jobDocument!) as { url: string }).url;
}

/**
 * Presigned GET URLs of the embedded S3 subset: made by a client with @aws-sdk/s3-request-presigner,
 * and made by the server itself for job documents (jobs.md §7.2, packages.md §11.3). Both are
 * checked by the door: plain GETs work, tampered or expired ones are refused.
 */
for (const backend of await testBackends()) {
  describe(`embedded S3: presigned URLs (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let devices: IoTJobsDataPlaneClient;
    // Presigned URLs are signed and checked against this clock (the wall clock in production).
    const signatureClock = new VirtualClock(Date.now());
    let v1: string;
    let v2: string;
    before(async () => {
      t = await startTestServer(backend, { signatureClock });
      s3 = s3Client(t);
      devices = jobsDataClient(t);
      v1 = (await putTestObject(t, 'downloads', 'fw/app 1+2.bin', 'firmware one'))!;
      v2 = (await s3.send(new PutObjectCommand({ Bucket: 'downloads', Key: 'fw/app 1+2.bin', Body: 'firmware two' }))).VersionId!;
      await seedGroup(t, 'presign-fleet', ['dev-1']);
      await seedGroup(t, 'artifact-fleet', ['dev-2']);
      await seedGroup(t, 'upload-fleet', ['up-1', 'up-2']);
    });
    after(async () => {
      s3?.destroy();
      devices?.destroy();
      await t?.close();
    });

    it('serves URLs presigned by @aws-sdk/s3-request-presigner to a GET without credentials', async () => {
      const latest = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'downloads', Key: 'fw/app 1+2.bin' }), { expiresIn: 300, signingDate: new Date(signatureClock.now()) });
      assert.deepEqual(await download(latest), { status: 200, text: 'firmware two' });
      const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'downloads', Key: 'fw/app 1+2.bin', VersionId: v1 }), { expiresIn: 300, signingDate: new Date(signatureClock.now()) });
      assert.deepEqual(await download(old), { status: 200, text: 'firmware one' });
    });

    it('refuses tampered and expired URLs with S3 XML errors', async () => {
      const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'downloads', Key: 'fw/app 1+2.bin', VersionId: v1 }), { expiresIn: 300, signingDate: new Date(signatureClock.now()) }));
      const variants: [string, (u: URL) => void][] = [
        ['another version', (u) => u.searchParams.set('versionId', v2)],
        ['another key', (u) => (u.pathname = '/downloads/fw/other.bin')],
        ['a longer expiry', (u) => u.searchParams.set('X-Amz-Expires', '3600')],
        ['another signature', (u) => u.searchParams.set('X-Amz-Signature', '0'.repeat(64))],
      ];
      for (const [what, change] of variants) {
        const bad = new URL(url);
        change(bad);
        const res = await download(bad.toString());
        assert.equal(res.status, 403, what);
        assert.match(res.text, /<Code>SignatureDoesNotMatch<\/Code>/, what);
      }
      const past = new Date(signatureClock.now() - 2 * 3600_000);
      const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'downloads', Key: 'fw/app 1+2.bin' }), { expiresIn: 3600, signingDate: past });
      const res = await download(expired);
      assert.equal(res.status, 403);
      assert.match(res.text, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    });

    it('puts presigned URLs in job documents that a device downloads with curl, until they expire', { skip: curlMissing }, async () => {
      await t.iot.send(new CreateJobCommand({
        jobId: 'presign-v2',
        targets: [groupArn('presign-fleet')],
        document: JSON.stringify({ url: `\${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/downloads/fw/app%201%2B2.bin%3FversionId%3D${v1}}` }),
        presignedUrlConfig: { roleArn: ROLE, expiresInSec: 60 },
      }));
      const url = await deviceUrl(devices, 'dev-1');
      assert.ok(url.startsWith(`${t.url}/downloads/`), url);
      assert.deepEqual(await curl(url), { status: 200, body: 'firmware one' });

      signatureClock.advance(61_000);
      const late = await curl(url);
      assert.equal(late.status, 403);
      assert.match(late.body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
      // A device reading the document again gets a fresh URL.
      const described = await devices.send(new DescribeJobExecutionCommand({ thingName: 'dev-1', jobId: 'presign-v2', includeJobDocument: true }));
      const again = (JSON.parse(described.execution!.jobDocument!) as { url: string }).url;
      assert.notEqual(again, url);
      assert.deepEqual(await curl(again), { status: 200, body: 'firmware one' });
    });

    it('gives each device a presigned upload URL for its own key, which it PUTs to without credentials', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'device-logs' }));
      const document = JSON.stringify({ upload: '${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/device-logs/${jobId}/${thingName}-${executionNumber}.log}' });
      await t.iot.send(new CreateJobCommand({ jobId: 'collect-logs', targets: [groupArn('upload-fleet')], document, presignedUrlConfig: { roleArn: ROLE, expiresInSec: 120 } }));
      // The control plane returns the document as stored, placeholders and all.
      assert.equal((await t.iot.send(new GetJobDocumentCommand({ jobId: 'collect-logs' }))).document, document);

      for (const thing of ['up-1', 'up-2']) {
        const started = await devices.send(new StartNextPendingJobExecutionCommand({ thingName: thing }));
        const url = (JSON.parse(started.execution!.jobDocument!) as { upload: string }).upload;
        assert.ok(url.startsWith(`${t.url}/device-logs/collect-logs/${thing}-1.log?`), url);
        const put = await fetch(url, { method: 'PUT', body: `log of ${thing}` });
        assert.equal(put.status, 200, await put.text());
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'device-logs' }));
      assert.deepEqual(listed.Contents?.map((o) => o.Key), ['collect-logs/up-1-1.log', 'collect-logs/up-2-1.log']);
      const body = await (await s3.send(new GetObjectCommand({ Bucket: 'device-logs', Key: 'collect-logs/up-2-1.log' }))).Body!.transformToString();
      assert.equal(body, 'log of up-2');

      // The URL signs one key and one method: another key, or a GET, is refused.
      const described = await devices.send(new DescribeJobExecutionCommand({ thingName: 'up-1', jobId: 'collect-logs', includeJobDocument: true }));
      const url = new URL((JSON.parse(described.execution!.jobDocument!) as { upload: string }).upload);
      const elsewhere = new URL(url);
      elsewhere.pathname = '/device-logs/collect-logs/up-2-1.log';
      const stolen = await fetch(elsewhere, { method: 'PUT', body: 'overwritten' });
      assert.equal(stolen.status, 403);
      assert.match(await stolen.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
      assert.equal((await fetch(url)).status, 403);
      signatureClock.advance(121_000);
      const late = await fetch(url, { method: 'PUT', body: 'too late' });
      assert.equal(late.status, 403);
      assert.match(await late.text(), /Request has expired/);
      const kept = await (await s3.send(new GetObjectCommand({ Bucket: 'device-logs', Key: 'collect-logs/up-2-1.log' }))).Body!.transformToString();
      assert.equal(kept, 'log of up-2');
    });

    it("presigns a package version's artifact for the devices of a deployment", async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'presigned-pkg' }));
      await t.iot.send(new CreatePackageVersionCommand({
        packageName: 'presigned-pkg', versionName: '2.0', artifact: { s3Location: { bucket: 'downloads', key: 'fw/app 1+2.bin', version: v2 } },
      }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'presigned-pkg', versionName: '2.0', action: 'PUBLISH' }));
      await t.iot.send(new CreateJobCommand({
        jobId: 'presign-artifact',
        targets: [groupArn('artifact-fleet')],
        document: JSON.stringify({ url: '${aws:iot:package:presigned-pkg:version:2.0:artifact:s3-presigned-url}' }),
        destinationPackageVersions: [packageVersionArn('presigned-pkg', '2.0')],
        presignedUrlConfig: { roleArn: ROLE, expiresInSec: 600 },
      }));
      const url = await deviceUrl(devices, 'dev-2');
      assert.match(url, /X-Amz-Signature=[0-9a-f]{64}/);
      assert.deepEqual(await download(url), { status: 200, text: 'firmware two' });
    });
  });

  describe(`embedded S3: presigned URLs without authentication (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_NO_AUTH: '1' });
      devices = jobsDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      await t?.close();
    });

    it('still issues and serves presigned URLs with --no-auth', async () => {
      await putTestObject(t, 'open-bucket', 'doc.txt', 'open data', false);
      await seedGroup(t, 'open-fleet', ['open-1']);
      await t.iot.send(new CreateJobCommand({
        jobId: 'open-job',
        targets: [groupArn('open-fleet')],
        document: JSON.stringify({ url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/open-bucket/doc.txt}' }),
        presignedUrlConfig: { roleArn: ROLE, expiresInSec: 60 },
      }));
      const url = await deviceUrl(devices, 'open-1');
      assert.match(url, /X-Amz-Credential=/);
      assert.deepEqual(await download(url), { status: 200, text: 'open data' });
    });
  });
}

/** A free TCP port on the loopback interface, for a server whose public URL must name it in advance. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

for (const backend of await testBackends()) {
  describe(`embedded S3: presigned URLs under --public-url (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    let port: number;
    before(async () => {
      port = await freePort();
      t = await startTestServer(backend, {}, { FLEETJOBS_PORT: String(port), FLEETJOBS_PUBLIC_URL: `http://localhost:${port}` });
      devices = jobsDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      await t?.close();
    });

    it('points device download URLs at the public origin, and they download from there', async () => {
      await putTestObject(t, 'public-bucket', 'fw.bin', 'public firmware');
      await seedGroup(t, 'public-fleet', ['pub-1']);
      await t.iot.send(new CreateJobCommand({
        jobId: 'public-job',
        targets: [groupArn('public-fleet')],
        document: JSON.stringify({ url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/public-bucket/fw.bin}' }),
        presignedUrlConfig: { roleArn: ROLE, expiresInSec: 60 },
      }));
      const url = await deviceUrl(devices, 'pub-1');
      assert.ok(url.startsWith(`http://localhost:${port}/public-bucket/fw.bin?`), url);
      assert.deepEqual(await download(url), { status: 200, text: 'public firmware' });
    });
  });
}
