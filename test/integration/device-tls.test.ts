import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { iotjobs } from 'aws-iot-device-sdk-v2';
import pino from 'pino';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DetachThingPrincipalCommand,
  ListThingsCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { startServer } from '../../src/app.js';
import { resolveConfig } from '../../src/config/config.js';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { startMoto } from '../support/moto.js';
import { POSTGRES_URL, testBackends } from '../support/backends.js';
import { releaseSdkObjects } from '../support/device-sdk.js';
import { closed, httpsWithCertificate, mqttsConnect, sdkMtlsConnect, tlsIotClient } from '../support/device-tls.js';
import { OpensslWorkspace } from '../support/openssl.js';
import { restartTestServer } from '../support/restart.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const TLS_ENV = { FLEETJOBS_TLS: '1', FLEETJOBS_MQTT_TLS_PORT: '0' };
const cliSkip = awsCliSkipReason();

for (const backend of await testBackends()) {
  describe(`TLS and device certificates (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let iot: IoTClient;
    let ca: string;
    let tlsUrl: string;
    const ssl = new OpensslWorkspace();
    /** Every log line the server writes, to check what refusals say (and that no key is in them). */
    const logLines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)), done()) }));
    /** A thing with an ACTIVE certificate attached. */
    const device = async (thingName: string) => {
      await iot.send(new CreateThingCommand({ thingName }));
      const c = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: c.certificateArn }));
      return { cert: c.certificatePem!, key: c.keyPair!.PrivateKey!, id: c.certificateId!, arn: c.certificateArn!, ca };
    };

    before(async () => {
      t = await startTestServer(backend, { logger }, TLS_ENV);
      ca = readFileSync(join(t.dataDir, 'tls', 'ca.pem'), 'utf8');
      iot = tlsIotClient(t.url, ca);
      tlsUrl = t.server.mqttTlsUrl!;
    });
    after(async () => {
      iot?.destroy();
      await t?.close();
      ssl.close();
      await releaseSdkObjects();
    });

    it('--tls makes a CA and a server certificate in <data-dir>/tls/, serves HTTPS with them, and keeps them across a restart', async () => {
      assert.match(t.url, /^https:\/\//);
      assert.match(tlsUrl, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(t.server.tlsCaFile, join(t.dataDir, 'tls', 'ca.pem'));
      for (const f of ['server.key', 'ca.key']) assert.equal(statSync(join(t.dataDir, 'tls', f)).mode & 0o777, 0o600);
      assert.ok(ssl.verifies(join(t.dataDir, 'tls', 'ca.pem'), join(t.dataDir, 'tls', 'server.pem')));
      await iot.send(new ListThingsCommand({}));
      const files = ['ca.pem', 'server.pem'].map((f) => readFileSync(join(t.dataDir, 'tls', f), 'utf8'));
      iot.destroy();
      t = await restartTestServer(t, backend, { logger, config: resolveConfig({ port: 0, mqttPort: 0, dataDir: t.dataDir, databaseUrl: backend.name === 'postgres' ? POSTGRES_URL : undefined }, { ...TLS_ENV, FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey }) });
      assert.deepEqual(['ca.pem', 'server.pem'].map((f) => readFileSync(join(t.dataDir, 'tls', f), 'utf8')), files);
      iot = tlsIotClient(t.url, ca);
      tlsUrl = t.server.mqttTlsUrl!;
      await iot.send(new ListThingsCommand({}));
    });

    it('mqtt.js with its certificate connects as its thing, with ALPN x-amzn-mqtt-ca or none; as another thing the socket is closed without CONNACK', async () => {
      const a = await device('tls-a');
      await iot.send(new CreateThingCommand({ thingName: 'tls-b' }));
      for (const alpn of [undefined, ['x-amzn-mqtt-ca']]) {
        const ok = await mqttsConnect(tlsUrl, 'tls-a', { ...a, alpn });
        assert.ok('connected' in ok);
        await ok.connected.endAsync();
      }
      assert.deepEqual(await mqttsConnect(tlsUrl, 'tls-b', a), { closedWithoutConnack: true });
      assert.deepEqual(await mqttsConnect(tlsUrl, 'tls-a', { ca }), { closedWithoutConnack: true }, 'no client certificate');
      const refusals = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'MQTT connection refused');
      assert.ok(refusals.some((l) => l.clientId === 'tls-b' && l.certificateId === a.id && /^iot:Connect on client\/tls-b is not allowed by the default device policy \(own-thing\) \(thing tls-b, not attached to the certificate, arn:aws:iot:[^:]+:\d+:cert\/[0-9a-f]{64}\)$/.test(String(l.reason))), JSON.stringify(refusals));
      assert.ok(refusals.some((l) => l.clientId === 'tls-a' && l.reason === 'no client certificate was presented'));
    });

    it('INACTIVE, unregistered and foreign-CA certificates are refused; a certificate registered without CA connects by its exact DER', async () => {
      const d = await device('tls-c');
      await iot.send(new UpdateCertificateCommand({ certificateId: d.id, newStatus: 'INACTIVE' }));
      assert.deepEqual(await mqttsConnect(tlsUrl, 'tls-c', d), { closedWithoutConnack: true });
      const foreignCa = ssl.ca('Unregistered CA');
      const leaf = ssl.leaf(foreignCa, '/CN=tls-c');
      assert.deepEqual(await mqttsConnect(tlsUrl, 'tls-c', { cert: leaf.pem, key: leaf.keyPem, ca }), { closedWithoutConnack: true });
      const reg = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: leaf.pem, status: 'ACTIVE' }));
      await iot.send(new AttachThingPrincipalCommand({ thingName: 'tls-c', principal: reg.certificateArn }));
      const ok = await mqttsConnect(tlsUrl, 'tls-c', { cert: leaf.pem, key: leaf.keyPem, ca });
      assert.ok('connected' in ok);
      await ok.connected.endAsync();
    });

    it('a policy on the certificate can name its subject: ${iot:Certificate.Subject.CommonName} is the client id it may connect as', async () => {
      const leaf = ssl.leaf(ssl.ca('Names CA'), '/CN=cn-device');
      const reg = await iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: leaf.pem, status: 'ACTIVE' }));
      const resource = reg.certificateArn!.replace(/cert\/.*$/, 'client/${iot:Certificate.Subject.CommonName}');
      await iot.send(new CreatePolicyCommand({ policyName: 'cn-connect', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: resource }] }) }));
      await iot.send(new AttachPolicyCommand({ policyName: 'cn-connect', target: reg.certificateArn }));
      const creds = { cert: leaf.pem, key: leaf.keyPem, ca };
      const ok = await mqttsConnect(tlsUrl, 'cn-device', creds);
      assert.ok('connected' in ok);
      await ok.connected.endAsync();
      assert.deepEqual(await mqttsConnect(tlsUrl, 'cn-other', creds), { closedWithoutConnack: true });
    });

    it('the MQTT TLS listener issues no session tickets: a device that reconnects makes a full handshake (decision 0047)', async () => {
      const d = await device('tls-ticket');
      // MQTT 3.1.1 CONNECT, clean session, keepalive 60 s, for client id tls-ticket.
      const id = Buffer.from('tls-ticket');
      const connect = Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60, 0, id.length]), id]);
      const handshake = (session?: Buffer) =>
        new Promise<{ reused: boolean; sessions: Buffer[] }>((resolve, reject) => {
          const sessions: Buffer[] = [];
          let reused = false;
          const socket = tls.connect({ host: '127.0.0.1', port: t.server.mqttTlsPort!, ca, cert: d.cert, key: d.key, ...(session ? { session } : {}) });
          socket.on('session', (s: Buffer) => sessions.push(s));
          socket.on('error', reject);
          socket.once('secureConnect', () => {
            reused = socket.isSessionReused();
            socket.write(connect);
          });
          // A TLS 1.3 server's tickets come before anything the broker answers (CONNACK, or a close).
          const done = () => {
            socket.destroy();
            resolve({ reused, sessions });
          };
          socket.once('data', done);
          socket.once('close', done);
        });
      const first = await handshake();
      assert.equal(first.reused, false);
      for (const session of first.sessions) assert.equal((await handshake(session)).reused, false, 'a session the server offered was resumed');
    });

    it('revoking a certificate drops its live connection at once and refuses it afterwards; detaching it from the thing does too', async () => {
      const d = await device('tls-d');
      const live = await mqttsConnect(tlsUrl, 'tls-d', d);
      assert.ok('connected' in live);
      const dropped = closed(live.connected);
      await iot.send(new UpdateCertificateCommand({ certificateId: d.id, newStatus: 'REVOKED' }));
      await dropped;
      live.connected.end(true);
      assert.deepEqual(await mqttsConnect(tlsUrl, 'tls-d', d), { closedWithoutConnack: true });

      const e = await device('tls-e');
      const second = await mqttsConnect(tlsUrl, 'tls-e', e);
      assert.ok('connected' in second);
      const gone = closed(second.connected);
      await iot.send(new DetachThingPrincipalCommand({ thingName: 'tls-e', principal: e.arn }));
      await gone;
      second.connected.end(true);
    });

    it('the Device SDK v2 mTLS builder with the server CA connects as its thing and is refused as another', async () => {
      const d = await device('sdk-tls');
      const port = t.server.mqttTlsPort!;
      const connection = await sdkMtlsConnect(port, 'sdk-tls', d.cert, d.key, ca);
      const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, { maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 10 });
      const pending = await jobs.getPendingJobExecutions({ thingName: 'sdk-tls' });
      assert.deepEqual([pending.inProgressJobs, pending.queuedJobs], [[], []]);
      jobs.close();
      const done = new Promise<void>((resolve) => connection.on('closed', () => resolve()));
      await connection.disconnect();
      await done;
      await assert.rejects(sdkMtlsConnect(port, 'tls-b', d.cert, d.key, ca));
    });

    it('the AWS CLI over HTTPS with --ca-bundle creates a certificate and attaches it to a thing', { skip: cliSkip }, async () => {
      await iot.send(new CreateThingCommand({ thingName: 'cli-tls' }));
      const bundle = ['--ca-bundle', join(t.dataDir, 'tls', 'ca.pem')];
      const created = await runAwsCli(t.url, ['iot', 'create-keys-and-certificate', '--set-as-active', ...bundle]);
      assert.equal(created.code, 0, created.stderr);
      const arn = created.json!.certificateArn as string;
      const attached = await runAwsCli(t.url, ['iot', 'attach-thing-principal', '--thing-name', 'cli-tls', '--principal', arn, ...bundle]);
      assert.equal(attached.code, 0, attached.stderr);
      const listed = await runAwsCli(t.url, ['iot', 'list-thing-principals-v2', '--thing-name', 'cli-tls', ...bundle]);
      assert.deepEqual(listed.json!.thingPrincipalObjects, [{ principal: arn, thingPrincipalType: 'NON_EXCLUSIVE_THING' }]);
      const ok = await mqttsConnect(tlsUrl, 'cli-tls', { cert: created.json!.certificatePem as string, key: (created.json!.keyPair as { PrivateKey: string }).PrivateKey, ca });
      assert.ok('connected' in ok);
      await ok.connected.endAsync();
    });

    it('HTTPS device planes: a client certificate and no signature acts for its own thing only', async () => {
      const d = await device('https-dev');
      const pending = await httpsWithCertificate(t.url, 'GET', '/things/https-dev/jobs', d);
      assert.equal(pending.status, 200, pending.body);
      assert.deepEqual(JSON.parse(pending.body), { inProgressJobs: [], queuedJobs: [] });
      const shadow = await httpsWithCertificate(t.url, 'GET', '/things/https-dev/shadow', d);
      assert.deepEqual([shadow.status, shadow.errorType], [404, 'ResourceNotFoundException']);
      const other = await httpsWithCertificate(t.url, 'GET', '/things/tls-b/jobs', d);
      assert.deepEqual([other.status, other.errorType], [403, 'ForbiddenException']);
      const control = await httpsWithCertificate(t.url, 'GET', '/things', d);
      assert.deepEqual([control.status, control.errorType], [403, 'MissingAuthenticationTokenException']);
      const none = await httpsWithCertificate(t.url, 'GET', '/things/https-dev/jobs', { ca });
      assert.equal(none.status, 403);
      await iot.send(new UpdateCertificateCommand({ certificateId: d.id, newStatus: 'INACTIVE' }));
      const inactive = await httpsWithCertificate(t.url, 'GET', '/things/https-dev/jobs', d);
      assert.deepEqual([inactive.status, inactive.errorType], [403, 'ForbiddenException']);
      assert.ok(logLines.some((l) => l.includes('HTTPS device request refused') && l.includes('the client certificate is INACTIVE')));
    });

    it('no log line carries a private key or a certificate', () => {
      assert.ok(logLines.length > 0);
      for (const l of logLines) assert.doesNotMatch(l, /PRIVATE KEY|BEGIN CERTIFICATE/);
    });

    if (backend.name === 'postgres') {
      it('a second instance on the same PostgreSQL database that would generate its own CA refuses to start, saying so; given the same CA it drops a certificate revoked through the first', async () => {
        const otherDir = await mkdtemp(join(tmpdir(), 'fleetjobs-test-'));
        // Another data dir shares objects only through an S3 service every instance reaches (decision 0045).
        const moto = await startMoto();
        const S3_ENV = { FLEETJOBS_S3_ENDPOINT: moto.url, FLEETJOBS_S3_FORCE_PATH_STYLE: '1', FLEETJOBS_S3_ACCESS_KEY_ID: 'testing', FLEETJOBS_S3_SECRET_ACCESS_KEY: 'testing' };
        try {
          const config = resolveConfig({ port: 0, mqttPort: 0, dataDir: otherDir, databaseUrl: POSTGRES_URL }, { ...TLS_ENV, ...S3_ENV, FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey });
          await assert.rejects(startServer({ config, logger: pino({ level: 'silent' }), databaseSchema: t.schema }), /would generate its own/);
          // Given the same CA files, it starts.
          const shared = resolveConfig({ port: 0, mqttPort: 0, dataDir: otherDir, databaseUrl: POSTGRES_URL }, {
            ...TLS_ENV, ...S3_ENV, FLEETJOBS_DEVICE_CA_CERT: join(t.dataDir, 'tls', 'ca.pem'), FLEETJOBS_DEVICE_CA_KEY: join(t.dataDir, 'tls', 'ca.key'),
            FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          });
          const second = await startServer({ config: shared, logger: pino({ level: 'silent' }), databaseSchema: t.schema });
          try {
            // A device on the second instance; its certificate revoked through the first.
            const d = await device('two-nodes');
            const live = await mqttsConnect(second.mqttTlsUrl!, 'two-nodes', d);
            assert.ok('connected' in live);
            const dropped = closed(live.connected);
            await iot.send(new UpdateCertificateCommand({ certificateId: d.id, newStatus: 'INACTIVE' }));
            await second.engine.step();
            await dropped;
            live.connected.end(true);
          } finally {
            await second.close();
          }
        } finally {
          await moto.stop();
          await rm(otherDir, { recursive: true, force: true });
        }
      });
    }
  });
}
