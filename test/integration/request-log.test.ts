import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CreateThingCommand, DescribeThingCommand } from '@aws-sdk/client-iot';
import { GetPendingJobExecutionsCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { jobsDataClient } from '../support/jobs.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { putTestObject, s3Client } from '../support/s3.js';
import { ServeProcess } from '../support/serve-process.js';
import { expectAwsError, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

/** The request log (issue 14): one JSON line per request, naming it and its outcome, never its contents. */
for (const backend of await testBackends()) {
  describe(`the request log (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    });
    before(async () => {
      t = await startTestServer(backend, { logger: pino({ level: 'info' }, sink) });
    });
    after(async () => t?.close());
    const requestLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');

    it('writes one line per request with reqId, api, operation, status, ms and the error name', async () => {
      lines.length = 0;
      await t.iot.send(new CreateThingCommand({ thingName: 'logged', attributePayload: { attributes: { secretish: 'attribute-value-42' } } }));
      await expectAwsError(t.iot.send(new DescribeThingCommand({ thingName: 'missing' })), 'ResourceNotFoundException');
      const devices = jobsDataClient(t);
      const data = iotDataClient(t);
      try {
        await devices.send(new GetPendingJobExecutionsCommand({ thingName: 'logged' }));
        await data.send(new UpdateThingShadowCommand({ thingName: 'logged', payload: Buffer.from('{"state":{"reported":{"pin":"shadow-value-77"}}}') }));
      } finally {
        devices.destroy();
        data.destroy();
      }
      await putTestObject(t, 'log-bucket', 'k', 'object-body-99', false);
      const s3 = s3Client(t, 'WHEN_REQUIRED');
      try {
        await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'log-bucket', Key: 'nope' })), /NoSuchKey|does not exist/);
      } finally {
        s3.destroy();
      }
      const raw = await sendSigned(t.url, { method: 'GET', path: '/things/logged' });
      await new Promise((r) => setImmediate(r));

      const got = requestLines().map(({ api, operation, status, error }) => ({ api, operation, status, error }));
      assert.deepEqual(got, [
        { api: 'iot', operation: 'CreateThing', status: 200, error: undefined },
        { api: 'iot', operation: 'DescribeThing', status: 404, error: 'ResourceNotFoundException' },
        { api: 'iot-jobs-data', operation: 'GetPendingJobExecutions', status: 200, error: undefined },
        { api: 'iotdata', operation: 'UpdateThingShadow', status: 200, error: undefined },
        { api: 's3', operation: 'CreateBucket', status: 200, error: undefined },
        { api: 's3', operation: 'PutObject', status: 200, error: undefined },
        { api: 's3', operation: 'GetObject', status: 404, error: 'NoSuchKey' },
        { api: 'iot', operation: 'DescribeThing', status: 200, error: undefined },
      ]);
      for (const l of requestLines()) {
        assert.equal(typeof l.ms, 'number');
        assert.match(String(l.reqId), /^[0-9a-f-]{36}$/);
      }
      assert.equal(requestLines().at(-1)!.reqId, raw.headers['x-amzn-requestid'], 'the id in the response header');
      const text = lines.join('\n');
      for (const secret of ['attribute-value-42', 'shadow-value-77', 'object-body-99', TEST_CREDENTIALS.secretAccessKey, 'Signature=', 'authorization']) {
        assert.ok(!text.includes(secret), `the log holds no ${secret}`);
      }
      for (const l of lines) assert.equal((l.match(/"msg":/g) ?? []).length, 1, `one msg key: ${l}`);
    });
  });
}

describe('the log format', () => {
  let p: ServeProcess | undefined;
  after(async () => {
    p?.kill();
    await p?.exited;
  });
  it('is readable with --log-format pretty, and the shutdown is a log line', async () => {
    const dir = (await import('node:fs/promises')).mkdtemp((await import('node:path')).join((await import('node:os')).tmpdir(), 'fleetjobs-log-'));
    p = new ServeProcess(['serve', '--port', '0', '--mqtt-port', '0', '--data-dir', await dir, '--log-format', 'pretty', '--no-auth']);
    const url = await p.url();
    await fetch(`${url}/health`);
    await p.waitForLine((l) => /INFO.*request/.test(l));
    assert.ok(p.lines.some((l) => /INFO.*request/.test(l) && !l.trimStart().startsWith('{')), p.stdout);
    const { code } = await p.terminate();
    assert.equal(code, 0);
    assert.match(p.stdout, /INFO.*shutting down/);
  });
});
