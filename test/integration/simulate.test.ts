import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateJobCommand,
  DescribeCertificateCommand,
  DescribeJobCommand,
  DescribeThingGroupCommand,
  ListJobExecutionsForJobCommand,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { tlsIotClient } from '../support/device-tls.js';
import { groupArn } from '../support/jobs.js';
import { ServeProcess } from '../support/serve-process.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

/**
 * `fleetjobs simulate`: registers its devices through the control plane, connects them over MQTT
 * (or mutual TLS, each with its own certificate), runs every job they are sent, and prints a
 * summary that agrees with the job's counters; it stops on Ctrl-C or once idle, and exits 0 either way.
 */
const summaryOf = (s: ServeProcess) => JSON.parse(s.lines[s.lines.length - 1]) as Record<string, number | string>;

/** `fleetjobs simulate` as a user runs it, with the test's credentials and JSON output. */
function simulateProcess(sims: ServeProcess[], args: string[]): ServeProcess {
  const s = new ServeProcess(['simulate', '--json', ...args], {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });
  sims.push(s);
  return s;
}

async function completed(iot: IoTClient, jobId: string): Promise<Record<string, number>> {
  // The devices work in another process: look until the job is done.
  for (;;) {
    const { job } = await iot.send(new DescribeJobCommand({ jobId }));
    if (job?.status === 'COMPLETED') return job.jobProcessDetails as Record<string, number>;
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const backend of await testBackends()) {
  describe(`fleetjobs simulate (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const sims: ServeProcess[] = [];
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      for (const s of sims) s.kill();
      await t?.close();
    });

    const simulate = (args: string[]) => simulateProcess(sims, ['--endpoint', t.url, '--broker', t.server.mqttUrl!, ...args]);

    it('registers a group of devices that run a job to its end, and stops on Ctrl-C with a summary', async () => {
      const sim = simulate(['--devices', '40', '--group', 'sim-a', '--work-ms', '20', '--fail-rate', '0.25', '--reject-rate', '0.1']);
      await sim.waitForLine((l) => l === `fleetjobs simulate: 40 of 40 devices connected to ${t.server.mqttUrl}`);
      const members = await t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'sim-a', maxResults: 100 }));
      assert.equal(members.things?.length, 40);
      assert.ok(members.things!.includes('sim-a-000001') && members.things!.includes('sim-a-000040'));

      await t.iot.send(new CreateJobCommand({ jobId: 'sim-job', targets: [groupArn('sim-a')], document: '{}' }));
      const counters = await completed(t.iot, 'sim-job');
      sim.child.kill('SIGINT');
      assert.deepEqual(await sim.exited, { code: 0, signal: null });
      const s = summaryOf(sim);
      assert.equal(s.stoppedBy, 'signal');
      assert.equal(s.connected, 40);
      assert.equal(s.succeeded, counters.numberOfSucceededThings);
      assert.equal(s.failed, counters.numberOfFailedThings);
      assert.equal(s.rejected, counters.numberOfRejectedThings);
      assert.equal(Number(s.succeeded) + Number(s.failed) + Number(s.rejected), 40);
      assert.equal(s.inProgress, 0);
    });

    it('takes the next job after the first, creates a missing group once, and exits when idle', async () => {
      const sim = simulate(['--devices', '10', '--group', 'sim-b', '--work-ms', '0', '--exit-when-idle', '1']);
      await sim.waitForLine((l) => l.startsWith('fleetjobs simulate: 10 of 10 devices connected'));
      await t.iot.send(new CreateJobCommand({ jobId: 'sim-b-1', targets: [groupArn('sim-b')], document: '{}' }));
      await t.iot.send(new CreateJobCommand({ jobId: 'sim-b-2', targets: [groupArn('sim-b')], document: '{}' }));
      assert.equal((await completed(t.iot, 'sim-b-1')).numberOfSucceededThings, 10);
      assert.equal((await completed(t.iot, 'sim-b-2')).numberOfSucceededThings, 10);
      assert.deepEqual(await sim.exited, { code: 0, signal: null });
      const s = summaryOf(sim);
      assert.equal(s.stoppedBy, 'idle');
      assert.equal(s.succeeded, 20);
      assert.ok((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'sim-b' }))).thingGroupName);
    });

    it('refuses bad flags with a message', async () => {
      const sim = simulate(['--devices', '0', '--group', 'sim-c']);
      assert.equal((await sim.exited).code, 2);
      assert.match(sim.stderr, /--devices takes a whole number of at least 1/);
      const rates = simulate(['--devices', '1', '--group', 'sim-c', '--fail-rate', '1.5']);
      assert.equal((await rates.exited).code, 2);
      assert.match(rates.stderr, /--fail-rate takes a share from 0 to 1/);
    });
  });

  describe(`fleetjobs simulate over mutual TLS (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let iot: IoTClient;
    let caFile: string;
    const sims: ServeProcess[] = [];
    before(async () => {
      // As `fleetjobs serve --tls`: HTTPS, and the MQTT TLS listener on a free port.
      t = await startTestServer(backend, {}, { FLEETJOBS_TLS: '1', FLEETJOBS_MQTT_TLS_PORT: '0' });
      caFile = join(t.dataDir, 'tls', 'ca.pem');
      iot = tlsIotClient(t.url, readFileSync(caFile, 'utf8'));
    });
    after(async () => {
      for (const s of sims) s.kill();
      iot?.destroy();
      await t?.close();
    });

    it('--mtls gives each device its own certificate over HTTPS checked against --ca, and the devices run a job to SUCCEEDED', async () => {
      const broker = t.server.mqttTlsUrl!;
      assert.match(broker, /^mqtts:\/\//);
      const sim = simulateProcess(sims, ['--endpoint', t.url, '--broker', broker, '--ca', caFile, '--mtls', '--devices', '3', '--group', 'sim-tls', '--work-ms', '0']);
      await sim.waitForLine((l) => l === `fleetjobs simulate: 3 of 3 devices connected to ${broker}`);
      for (const thingName of ['sim-tls-000001', 'sim-tls-000002', 'sim-tls-000003']) {
        const { principals } = await iot.send(new ListThingPrincipalsCommand({ thingName }));
        assert.equal(principals?.length, 1, thingName);
        const { certificateDescription } = await iot.send(new DescribeCertificateCommand({ certificateId: principals![0].split('/').pop() }));
        assert.equal(certificateDescription?.status, 'ACTIVE');
      }
      await iot.send(new CreateJobCommand({ jobId: 'sim-tls-job', targets: [groupArn('sim-tls')], document: '{}' }));
      assert.equal((await completed(iot, 'sim-tls-job')).numberOfSucceededThings, 3);
      const { executionSummaries } = await iot.send(new ListJobExecutionsForJobCommand({ jobId: 'sim-tls-job' }));
      assert.deepEqual(executionSummaries?.map((e) => e.jobExecutionSummary?.status), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      sim.child.kill('SIGINT');
      assert.deepEqual(await sim.exited, { code: 0, signal: null });
      const s = summaryOf(sim);
      assert.equal(s.connected, 3);
      assert.equal(s.succeeded, 3);
    });

    it('refuses --mtls without an mqtts:// broker, an unreadable --ca and an HTTPS endpoint it cannot check, each with one line', async () => {
      const notPem = join(t.dataDir, 'not-a-ca.txt');
      writeFileSync(notPem, 'no certificate here');
      const cases: [string[], RegExp][] = [
        [['--endpoint', t.url, '--broker', t.server.mqttUrl!, '--ca', caFile, '--mtls'], /^fleetjobs simulate: --mtls connects devices with mutual TLS, so it needs an mqtts:\/\/ broker, not mqtt:\/\/[^\s]+\n$/],
        [['--endpoint', t.url, '--broker', t.server.mqttTlsUrl!, '--ca', join(t.dataDir, 'no-such-ca.pem'), '--mtls'], /^fleetjobs simulate: --ca [^\s]+no-such-ca\.pem: cannot be read \(ENOENT\)\n$/],
        [['--endpoint', t.url, '--broker', t.server.mqttTlsUrl!, '--ca', notPem, '--mtls'], /^fleetjobs simulate: --ca [^\s]+: holds no PEM certificate\n$/],
        [['--endpoint', t.url, '--broker', t.server.mqttTlsUrl!, '--mtls'], /^fleetjobs simulate: cannot reach https:\/\/[^\s]+: .*certificate.* \(give the CA that signed it with --ca\)\n$/],
      ];
      // The four processes at once: each is a CLI start, and none depends on another.
      const runs = cases.map(([args, message]) => ({ message, sim: simulateProcess(sims, [...args, '--devices', '1', '--group', 'sim-tls-bad']) }));
      for (const { sim, message } of runs) {
        assert.equal((await sim.exited).code, 2, sim.stderr);
        assert.match(sim.stderr, message);
      }
      // None of them registered anything.
      await assert.rejects(iot.send(new DescribeThingGroupCommand({ thingGroupName: 'sim-tls-bad' })), { name: 'ResourceNotFoundException' });
    });
  });
}
