import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreateThingCommand } from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { POSTGRES_URL, testBackends } from '../support/backends.js';
import { jobsDataClient, thingArn } from '../support/jobs.js';
import { TestDevice } from '../support/mqtt.js';
import { sendRaw, sendSigned } from '../support/raw-signed-http.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Operators' endpoints (issue 14): /health and /ready unsigned, /metrics signed, --metrics-port. */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
};

for (const backend of await testBackends()) {
  describe(`/health, /ready and /metrics (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_METRICS_PORT: '0' });
    });
    after(async () => t?.close());
    const metrics = async () => {
      const res = await sendSigned(t.url, { method: 'GET', path: '/metrics' });
      assert.equal(res.status, 200, res.text);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return res.text;
    };

    it('answers /health and /ready unsigned, and /metrics only signed', async () => {
      assert.deepEqual((await sendRaw(t.url, { method: 'GET', path: '/health' })).json, { status: 'ok', service: 'fleetjobs' });
      const ready = await sendRaw(t.url, { method: 'GET', path: '/ready' });
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { status: 'ready' });
      assert.equal((await sendRaw(t.url, { method: 'GET', path: '/metrics' })).status, 403);
      assert.match(await metrics(), /^# HELP fleetjobs_/m);
    });

    it('counts requests, releases, timeouts, executions by status and MQTT traffic', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'm-1' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'm-2' }));
      await t.iot.send(new CreateJobCommand({ jobId: 'm-job', targets: [thingArn('m-1'), thingArn('m-2')], document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 1 } }));
      const devices = jobsDataClient(t);
      const device = await TestDevice.connect(t.server.mqttUrl!, 'm-2');
      try {
        await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'm-1' }));
        assert.ok((await device.request('jobs/start-next')).accepted);
        await devices.send(new UpdateJobExecutionCommand({ thingName: 'm-1', jobId: 'm-job', status: 'SUCCEEDED' }));
        await t.advance(61_000);
        const text = await metrics();
        assert.equal(sample(text, 'fleetjobs_http_requests_total', { api: 'iot', operation: 'CreateThing', status: '200' }), 2);
        assert.equal(sample(text, 'fleetjobs_http_requests_total', { api: 'iot-jobs-data', operation: 'UpdateJobExecution', status: '200' }), 1);
        assert.equal(sample(text, 'fleetjobs_http_request_duration_seconds_count', { api: 'iot', operation: 'CreateJob' }), 1);
        assert.equal(sample(text, 'fleetjobs_job_executions_released_total', { region: 'us-east-1' }), 2);
        assert.equal(sample(text, 'fleetjobs_job_executions_timed_out_total', { region: 'us-east-1' }), 1, 'the MQTT device never finished');
        assert.equal(sample(text, 'fleetjobs_job_executions', { status: 'SUCCEEDED' }), 1);
        assert.equal(sample(text, 'fleetjobs_job_executions', { status: 'TIMED_OUT' }), 1);
        assert.equal(sample(text, 'fleetjobs_jobs', { status: 'COMPLETED' }), 1);
        assert.equal(sample(text, 'fleetjobs_mqtt_connections'), 1);
        assert.ok((sample(text, 'fleetjobs_mqtt_messages_received_total') ?? 0) >= 1);
        assert.ok((sample(text, 'fleetjobs_mqtt_messages_sent_total') ?? 0) >= 1);
        assert.equal(sample(text, 'fleetjobs_sbom_validations', { state: 'queued' }), 0);
        assert.ok(sample(text, 'fleetjobs_db_connections', { state: 'idle' }) !== undefined);
        assert.ok((sample(text, 'fleetjobs_process_resident_memory_bytes') ?? 0) > 0);
      } finally {
        devices.destroy();
        await device.close();
      }
    });

    it('serves /metrics unsigned on --metrics-port, and nothing else there', async () => {
      const base = `http://127.0.0.1:${t.server.metricsPort}`;
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /fleetjobs_http_requests_total/);
      assert.equal((await fetch(`${base}/things`)).status, 404);
    });
  });
}

for (const backend of (await testBackends()).filter((b) => b.name === 'postgres')) {
  describe('a database outage', { skip: backend.skip }, () => {
    let t: TestServer;
    let proxy: net.Server;
    let port = 0;
    const sockets = new Set<net.Socket>();
    /** A TCP proxy to PostgreSQL that the test can cut and restore. */
    const listen = () => new Promise<void>((resolve) => {
      proxy = net.createServer((client) => {
        const upstream = net.connect(new URL(POSTGRES_URL).port ? Number(new URL(POSTGRES_URL).port) : 5432, new URL(POSTGRES_URL).hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      proxy.listen(port, '127.0.0.1', () => {
        port = (proxy.address() as net.AddressInfo).port;
        resolve();
      });
    });
    const cut = async () => {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    };
    before(async () => {
      await listen();
      const url = new URL(POSTGRES_URL);
      url.host = `127.0.0.1:${port}`;
      t = await startTestServer({ ...backend }, {}, { FLEETJOBS_DATABASE_URL: url.toString() });
    });
    after(async () => {
      await t?.close().catch(() => undefined);
      proxy?.close();
    });

    it('keeps /health up, answers /ready 503 while the database is away, and recovers by itself', async () => {
      assert.equal((await sendRaw(t.url, { method: 'GET', path: '/ready' })).status, 200);
      await cut();
      const down = await sendRaw(t.url, { method: 'GET', path: '/ready' });
      assert.equal(down.status, 503, down.text);
      assert.equal(down.json?.status, 'unavailable');
      assert.match(String(down.json?.reason), /database does not answer/);
      assert.equal((await sendRaw(t.url, { method: 'GET', path: '/health' })).status, 200);
      await listen();
      // The pool drops its broken connections as it meets them, then opens new ones.
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await sendRaw(t.url, { method: 'GET', path: '/ready' })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'ready again once the database is back');
      await t.iot.send(new CreateThingCommand({ thingName: 'after-outage' }));
    });
  });
}
