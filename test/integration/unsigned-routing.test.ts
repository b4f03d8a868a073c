import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsCliSkipReason, cliEnv, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { sendRaw } from '../support/raw-signed-http.js';
import { putTestObject } from '../support/s3.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Requests that carry no signing name (issue 14): routed by what their path is, the device's APIs
 * first, with --no-auth; refused in the format of the API the path belongs to with auth on.
 */
const cliSkip = awsCliSkipReason();
for (const backend of await testBackends()) {
  describe(`unsigned requests with --no-auth (${backend.name})`, { skip: backend.skip ?? cliSkip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_NO_AUTH: '1' });
    });
    after(async () => t?.close());

    it('answers `aws iot-jobs-data … --no-sign-request` from the data plane, and the control plane by its own paths', async () => {
      const cli = (args: string[]) => runAwsCli(t.url, [...args, '--no-sign-request'], cliEnv());
      assert.equal((await cli(['iot', 'create-thing', '--thing-name', 'u-1'])).code, 0);
      const job = await cli(['iot', 'create-job', '--job-id', 'u-job', '--targets', 'arn:aws:iot:us-east-1:123456789012:thing/u-1', '--document', '{"step":1}']);
      assert.equal(job.code, 0, job.stderr);
      const pending = await cli(['iot-jobs-data', 'get-pending-job-executions', '--thing-name', 'u-1']);
      assert.equal(pending.code, 0, pending.stderr);
      assert.deepEqual((pending.json as { queuedJobs: { jobId: string }[] }).queuedJobs.map((j) => j.jobId), ['u-job']);
      const started = await cli(['iot-jobs-data', 'start-next-pending-job-execution', '--thing-name', 'u-1']);
      assert.equal(started.code, 0, started.stderr);
      assert.equal((started.json as { execution: { status: string } }).execution.status, 'IN_PROGRESS');
      const shadow = await sendRaw(t.url, { method: 'POST', path: '/things/u-1/shadow', body: '{"state":{"reported":{"on":true}}}', headers: { 'content-type': 'application/json' } });
      assert.equal(shadow.status, 200, shadow.text);
      assert.equal(shadow.json?.version, 1, 'the shadow API answered');
    });
  });

  describe(`unsigned requests with auth on (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await putTestObject(t, 'artifacts', 'fw.bin', 'bytes', false);
    });
    after(async () => t?.close());

    it('refuses an S3 path with S3\'s XML AccessDenied, and an IoT path with the IoT JSON error', async () => {
      const s3 = await sendRaw(t.url, { method: 'GET', path: '/artifacts/fw.bin' });
      assert.equal(s3.status, 403);
      assert.match(String(s3.headers['content-type']), /application\/xml/);
      assert.match(s3.text, /<Code>AccessDenied<\/Code>/);
      const iot = await sendRaw(t.url, { method: 'GET', path: '/things' });
      assert.equal(iot.status, 403);
      assert.equal(iot.json?.__type, 'MissingAuthenticationTokenException');
    });

    it('refuses a SigV2-presigned URL with S3\'s InvalidRequest naming AWS4-HMAC-SHA256', async () => {
      const v2 = await sendRaw(t.url, { method: 'GET', path: '/artifacts/fw.bin', query: { AWSAccessKeyId: 'AKIAFLEETJOBSTEST0001', Expires: '1999999999', Signature: 'abc=' } });
      assert.equal(v2.status, 400, v2.text);
      assert.match(v2.text, /<Code>InvalidRequest<\/Code>/);
      assert.match(v2.text, /Please use AWS4-HMAC-SHA256/);
      const header = await sendRaw(t.url, { method: 'GET', path: '/artifacts/fw.bin', headers: { authorization: 'AWS AKIAFLEETJOBSTEST0001:abc=' } });
      assert.equal(header.status, 400);
      assert.match(header.text, /<Code>InvalidRequest<\/Code>/);
    });
  });
}
