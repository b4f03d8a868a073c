import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateJobCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobExecutionCommand as ControlDescribeExecution,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient, ListNamedShadowsForThingCommand, UpdateThingShadowCommand, DeleteThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { DescribeJobExecutionCommand, GetPendingJobExecutionsCommand, StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { mtlsJobsClient, mtlsShadowClient, tlsIotClient, type DeviceTls } from '../support/device-tls.js';
import { thingArn } from '../support/jobs.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const TLS_ENV = { FLEETJOBS_TLS: '1', FLEETJOBS_MQTT_TLS_PORT: '0' };
const arn = (resource: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${resource}`;
const policy = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const state = (reported: Record<string, unknown>) => new TextEncoder().encode(JSON.stringify({ state: { reported } }));

/** A server with TLS, its control plane over HTTPS, and every log line it writes. */
async function tlsServer(backend: Parameters<typeof startTestServer>[0], env: Record<string, string> = {}) {
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)), done()) }));
  const t = await startTestServer(backend, { logger }, { ...TLS_ENV, ...env });
  const ca = readFileSync(join(t.dataDir, 'tls', 'ca.pem'), 'utf8');
  const iot = tlsIotClient(t.url, ca);
  // The operator's view of the shadows (SigV4), to see what a refused request left.
  const admin = new IoTDataPlaneClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }) });
  /** A thing with an ACTIVE certificate attached. */
  const device = async (thingName: string): Promise<DeviceTls & { arn: string }> => {
    await iot.send(new CreateThingCommand({ thingName }));
    const c = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: c.certificateArn }));
    return { cert: c.certificatePem!, key: c.keyPair!.PrivateKey!, ca, arn: c.certificateArn! };
  };
  return {
    t, iot, admin, device, logLines,
    async close() {
      iot.destroy();
      admin.destroy();
      await t.close();
    },
  };
}

type Server = Awaited<ReturnType<typeof tlsServer>>;

for (const backend of await testBackends()) {
  describe(`HTTPS device planes under IoT policies (${backend.name})`, { skip: backend.skip }, () => {
    let s: Server;
    before(async () => {
      s = await tlsServer(backend);
    });
    after(async () => {
      await s?.close();
    });

    it('own-thing (no policy): a certificate acts on its own thing, and is refused on another thing\'s shadow, which stays as it was', async () => {
      const a = await s.device('pol-a');
      await s.device('pol-b');
      await s.admin.send(new UpdateThingShadowCommand({ thingName: 'pol-b', payload: state({ owner: 'b' }) }));
      const shadows = mtlsShadowClient(s.t.url, a);
      const jobs = mtlsJobsClient(s.t.url, a);
      try {
        await s.iot.send(new CreateJobCommand({ jobId: 'own-job', targets: [thingArn('pol-a')], document: '{"op":"own"}' }));
        const next = await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: 'pol-a' }));
        assert.equal(next.execution?.jobId, 'own-job');
        await jobs.send(new UpdateJobExecutionCommand({ thingName: 'pol-a', jobId: 'own-job', status: 'SUCCEEDED' }));
        const own = await shadows.send(new UpdateThingShadowCommand({ thingName: 'pol-a', payload: state({ fw: '1.0' }) }));
        assert.equal(own.$metadata.httpStatusCode, 200);
        await shadows.send(new UpdateThingShadowCommand({ thingName: 'pol-a', shadowName: 'cfg', payload: state({ mode: 'x' }) }));
        const listed = await shadows.send(new ListNamedShadowsForThingCommand({ thingName: 'pol-a' }));
        assert.deepEqual(listed.results, ['cfg']);

        await expectAwsError(shadows.send(new UpdateThingShadowCommand({ thingName: 'pol-b', payload: state({ owner: 'a' }) })), 'ForbiddenException', { status: 403, message: /iot:UpdateThingShadow on resource arn:aws:iot:us-east-1:123456789012:thing\/pol-b/ });
        await expectAwsError(shadows.send(new GetThingShadowCommand({ thingName: 'pol-b' })), 'ForbiddenException', { status: 403 });
        await expectAwsError(shadows.send(new DeleteThingShadowCommand({ thingName: 'pol-b' })), 'ForbiddenException', { status: 403 });
        await expectAwsError(jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'pol-b' })), 'ForbiddenException', { status: 403 });
        const b = await s.admin.send(new GetThingShadowCommand({ thingName: 'pol-b' }));
        assert.deepEqual(JSON.parse(new TextDecoder().decode(b.payload)).state, { reported: { owner: 'b' } });
        assert.ok(s.logLines.some((l) => l.includes('HTTPS device request refused') && l.includes('iot:UpdateThingShadow on thing/pol-b is not allowed by the default device policy (own-thing)')));
      } finally {
        shadows.destroy();
        jobs.destroy();
      }
    });

    it('an attached policy that allows the actions on the thing opens them (200), under either action prefix of the jobs plane', async () => {
      const d = await s.device('pol-allow');
      await s.iot.send(new CreatePolicyCommand({
        policyName: 'https-allow',
        policyDocument: policy(
          { Effect: 'Allow', Action: ['iotjobsdata:GetPendingJobExecutions', 'iotjobsdata:DescribeJobExecution'], Resource: arn('thing/pol-allow') },
          { Effect: 'Allow', Action: ['iot:GetThingShadow', 'iot:UpdateThingShadow'], Resource: arn('thing/pol-allow') },
        ),
      }));
      await s.iot.send(new AttachPolicyCommand({ policyName: 'https-allow', target: d.arn }));
      const shadows = mtlsShadowClient(s.t.url, d);
      const jobs = mtlsJobsClient(s.t.url, d);
      try {
        const pending = await jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'pol-allow' }));
        assert.equal(pending.$metadata.httpStatusCode, 200);
        assert.deepEqual([pending.inProgressJobs, pending.queuedJobs], [[], []]);
        const updated = await shadows.send(new UpdateThingShadowCommand({ thingName: 'pol-allow', payload: state({ fw: '2.0' }) }));
        assert.equal(updated.$metadata.httpStatusCode, 200);
        const got = await shadows.send(new GetThingShadowCommand({ thingName: 'pol-allow' }));
        assert.deepEqual(JSON.parse(new TextDecoder().decode(got.payload)).state, { reported: { fw: '2.0' } });
        // The attached policy replaces the default one: what it does not grant is refused.
        await expectAwsError(jobs.send(new StartNextPendingJobExecutionCommand({ thingName: 'pol-allow' })), 'ForbiddenException', { status: 403 });
        await expectAwsError(shadows.send(new DeleteThingShadowCommand({ thingName: 'pol-allow' })), 'ForbiddenException', { status: 403 });
        const still = await s.admin.send(new GetThingShadowCommand({ thingName: 'pol-allow' }));
        assert.equal(JSON.parse(new TextDecoder().decode(still.payload)).version, 1);
        assert.ok(s.logLines.some((l) => l.includes('iot:DeleteThingShadow on thing/pol-allow is not allowed by its policies (https-allow)')));
      } finally {
        shadows.destroy();
        jobs.destroy();
      }
    });

    it('its thing\'s groups\' policies apply, their thing variables naming the thing the certificate is attached to', async () => {
      const d = await s.device('pol-grp');
      const group = await s.iot.send(new CreateThingGroupCommand({ thingGroupName: 'https-grp' }));
      await s.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'https-grp', thingName: 'pol-grp' }));
      await s.iot.send(new CreatePolicyCommand({
        policyName: 'https-grp-pol',
        policyDocument: policy(
          { Effect: 'Allow', Action: ['iot:GetThingShadow', 'iot:UpdateThingShadow'], Resource: arn('thing/${iot:Connection.Thing.ThingName}') },
          { Effect: 'Deny', Action: 'iotjobsdata:GetPendingJobExecutions', Resource: '*' },
        ),
      }));
      await s.iot.send(new AttachPolicyCommand({ policyName: 'https-grp-pol', target: group.thingGroupArn }));
      const shadows = mtlsShadowClient(s.t.url, d);
      const jobs = mtlsJobsClient(s.t.url, d);
      try {
        const updated = await shadows.send(new UpdateThingShadowCommand({ thingName: 'pol-grp', payload: state({ fw: '3.0' }) }));
        assert.equal(updated.$metadata.httpStatusCode, 200);
        await expectAwsError(shadows.send(new GetThingShadowCommand({ thingName: 'pol-b' })), 'ForbiddenException', { status: 403 });
        await expectAwsError(jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'pol-grp' })), 'ForbiddenException', { status: 403 });
        assert.ok(s.logLines.some((l) => l.includes('iot:GetPendingJobExecutions on thing/pol-grp is explicitly denied by its policies (https-grp-pol)')));
      } finally {
        shadows.destroy();
        jobs.destroy();
      }
    });

    it('a Deny overrides an Allow: 403, and the execution and the shadow are unchanged', async () => {
      const d = await s.device('pol-deny');
      await s.iot.send(new CreatePolicyCommand({
        policyName: 'https-deny',
        policyDocument: policy(
          { Effect: 'Allow', Action: 'iot:*', Resource: '*' },
          { Effect: 'Deny', Action: ['iot:UpdateJobExecution', 'iot:UpdateThingShadow'], Resource: arn('thing/pol-deny') },
        ),
      }));
      await s.iot.send(new AttachPolicyCommand({ policyName: 'https-deny', target: d.arn }));
      await s.iot.send(new CreateJobCommand({ jobId: 'deny-job', targets: [thingArn('pol-deny')], document: '{"op":"deny"}' }));
      const shadows = mtlsShadowClient(s.t.url, d);
      const jobs = mtlsJobsClient(s.t.url, d);
      try {
        const next = await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: 'pol-deny' }));
        assert.equal(next.execution?.status, 'IN_PROGRESS');
        await expectAwsError(jobs.send(new UpdateJobExecutionCommand({ thingName: 'pol-deny', jobId: 'deny-job', status: 'SUCCEEDED' })), 'ForbiddenException', { status: 403 });
        const described = await jobs.send(new DescribeJobExecutionCommand({ thingName: 'pol-deny', jobId: 'deny-job' }));
        assert.deepEqual([described.execution?.status, described.execution?.versionNumber], ['IN_PROGRESS', next.execution?.versionNumber]);
        const control = await s.iot.send(new ControlDescribeExecution({ thingName: 'pol-deny', jobId: 'deny-job' }));
        assert.equal(control.execution?.status, 'IN_PROGRESS');

        await expectAwsError(shadows.send(new UpdateThingShadowCommand({ thingName: 'pol-deny', payload: state({ fw: 'evil' }) })), 'ForbiddenException', { status: 403 });
        await expectAwsError(s.admin.send(new GetThingShadowCommand({ thingName: 'pol-deny' })), 'ResourceNotFoundException');
        assert.ok(s.logLines.some((l) => l.includes('iot:UpdateJobExecution on thing/pol-deny is explicitly denied by its policies (https-deny)')));
        for (const l of s.logLines) assert.doesNotMatch(l, /PRIVATE KEY|BEGIN CERTIFICATE/);
      } finally {
        shadows.destroy();
        jobs.destroy();
      }
    });
  });

  describe(`HTTPS device planes with --default-device-policy aws (${backend.name})`, { skip: backend.skip }, () => {
    let s: Server;
    before(async () => {
      s = await tlsServer(backend, { FLEETJOBS_DEFAULT_DEVICE_POLICY: 'aws' });
    });
    after(async () => {
      await s?.close();
    });

    it('a certificate without policies is refused on its own thing, and a policy then opens it', async () => {
      const d = await s.device('aws-dev');
      const jobs = mtlsJobsClient(s.t.url, d);
      const shadows = mtlsShadowClient(s.t.url, d);
      try {
        await expectAwsError(jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'aws-dev' })), 'ForbiddenException', { status: 403 });
        await expectAwsError(shadows.send(new UpdateThingShadowCommand({ thingName: 'aws-dev', payload: state({ fw: '1' }) })), 'ForbiddenException', { status: 403 });
        await expectAwsError(s.admin.send(new GetThingShadowCommand({ thingName: 'aws-dev' })), 'ResourceNotFoundException');
        assert.ok(s.logLines.some((l) => l.includes('iot:GetPendingJobExecutions on thing/aws-dev is not allowed by the default device policy (aws)')));

        await s.iot.send(new CreatePolicyCommand({
          policyName: 'aws-own-thing',
          policyDocument: policy({ Effect: 'Allow', Action: ['iot:GetPendingJobExecutions'], Resource: arn('thing/aws-dev') }),
        }));
        await s.iot.send(new AttachPolicyCommand({ policyName: 'aws-own-thing', target: d.arn }));
        const pending = await jobs.send(new GetPendingJobExecutionsCommand({ thingName: 'aws-dev' }));
        assert.equal(pending.$metadata.httpStatusCode, 200);
      } finally {
        jobs.destroy();
        shadows.destroy();
      }
    });
  });
}
