import { CreatePackageCommand, CreateJobCommand, CreateThingCommand, GetPackageCommand } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { DescribeJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { jobsDataClient, thingArn } from '../support/jobs.js';
import { presignUrl, sendRaw, signHeaders, type RawRequest, type SigningOptions } from '../support/raw-signed-http.js';
import { putTestObject, s3Client } from '../support/s3.js';
import { REGION, TEST_CREDENTIALS, type TestServer } from '../support/server.js';
import type { Finding } from './route-fuzzer.js';

/**
 * The SigV4 attacks of issue 8's probe, each against a write on every API: the answer must be a
 * 4xx and the write must not have happened. A target's `intact` check reads the state through the
 * SDK clients after all attacks ran.
 */
interface Target {
  service: 'iot' | 'iot-jobs-data' | 'iotdata' | 's3';
  req: RawRequest;
  /** Another body of the same length class, for swaps. */
  otherBody: string;
  intact: () => Promise<string | undefined>;
}

type Attack = (t: TestServer, target: Target) => Promise<{ status: number; text: string } | undefined>;

const MIN = 60_000;
const send = async (t: TestServer, target: Target, opts: SigningOptions, override?: Partial<RawRequest>) => {
  const req = { ...target.req, ...override };
  return sendRaw(t.url, req, await signHeaders(t.url, target.req, { service: target.service, ...opts }));
};
/** Signs `target` as given, then lets `edit` change the headers that go out. */
const edited = async (t: TestServer, target: Target, edit: (h: Record<string, string>) => void, req: Partial<RawRequest> = {}) => {
  const h = await signHeaders(t.url, target.req, { service: target.service });
  edit(h);
  return sendRaw(t.url, { ...target.req, ...req }, h);
};

const ATTACKS: Record<string, Attack> = {
  'wrong secret': (t, x) => send(t, x, { credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong-secret' } }),
  'unknown access key': (t, x) => send(t, x, { credentials: { accessKeyId: 'AKIAATTACKER00000000', secretAccessKey: 'x' } }),
  'body swapped after signing': (t, x) => send(t, x, { signedBody: x.otherBody }),
  'path swapped after signing': (t, x) => send(t, x, { signedPath: x.req.path.replace(/[a-z]$/, 'z') }),
  'query added after signing': (t, x) => send(t, x, { signedQuery: x.req.query ?? {} }, { query: { ...(x.req.query ?? {}), force: 'true' } }),
  'method swapped after signing': (t, x) => edited(t, x, () => undefined, { method: x.req.method === 'PUT' ? 'POST' : 'PUT' }),
  'signed content-type changed': (t, x) => edited(t, x, (h) => { h['content-type'] = 'text/plain'; }),
  'unsigned x-amz-* header added': (t, x) => send(t, x, { addAfterSigning: { 'x-amz-copy-source': `/fz-bucket/fz/key.bin`, 'x-amz-meta-evil': '1' } }),
  'host left out of the signature': (t, x) => send(t, x, { unsigned: ['host'], addAfterSigning: { host: 'attacker.example' } }),
  'host changed after signing': (t, x) => send(t, x, { addAfterSigning: { host: 'attacker.example' } }),
  'UNSIGNED-PAYLOAD with another body': async (t, x) =>
    x.service === 's3' ? undefined : send(t, { ...x, req: { ...x.req, headers: { ...(x.req.headers ?? {}), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } } }, { signedBody: x.otherBody, contentSha256Header: false }),
  'wrong x-amz-content-sha256 digest': (t, x) => edited(t, x, (h) => { h['x-amz-content-sha256'] = 'a'.repeat(64); }),
  'dated 20 minutes ago': (t, x) => send(t, x, { signingDate: new Date(Date.now() - 20 * MIN) }),
  'dated 20 minutes ahead': (t, x) => send(t, x, { signingDate: new Date(Date.now() + 20 * MIN) }),
  'x-amz-date changed after signing': (t, x) => edited(t, x, (h) => { h['x-amz-date'] = h['x-amz-date'].replace(/\d{2}Z$/, (s) => `${String((Number(s.slice(0, 2)) + 1) % 60).padStart(2, '0')}Z`); }),
  'scope date of another day': (t, x) => edited(t, x, (h) => { h.authorization = h.authorization.replace(/Credential=([^/]+)\/(\d{8})/, (_, k) => `Credential=${k}/20000101`); }),
  'scoped to another region': (t, x) => send(t, x, { region: 'eu-west-1' }),
  'scoped to another service': (t, x) => send(t, x, { service: x.service === 's3' ? 'iot' : 's3' }),
  'one signature digit flipped': (t, x) => edited(t, x, (h) => { h.authorization = h.authorization.replace(/Signature=([0-9a-f])/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`); }),
  'signature in upper case': (t, x) => edited(t, x, (h) => { h.authorization = h.authorization.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.toUpperCase()}`); }),
  'SignedHeaders names a header not sent': async (t, x) => {
    const h = await signHeaders(t.url, { ...x.req, headers: { ...(x.req.headers ?? {}), 'x-fz-extra': '1' } }, { service: x.service });
    delete h['x-fz-extra'];
    return sendRaw(t.url, x.req, h);
  },
  'SignedHeaders emptied': (t, x) => edited(t, x, (h) => { h.authorization = h.authorization.replace(/SignedHeaders=[^,]+/, 'SignedHeaders='); }),
  'Authorization truncated': (t, x) => edited(t, x, (h) => { h.authorization = h.authorization.slice(0, h.authorization.indexOf('SignedHeaders')); }),
  'Authorization of another scheme': (t, x) => edited(t, x, (h) => { h.authorization = `AWS ${TEST_CREDENTIALS.accessKeyId}:c2lnbmF0dXJl`; }),
  'presigned, expired': async (t, x) => presigned(t, x, { signingDate: new Date(Date.now() - 30 * MIN), expiresIn: 60 }),
  'presigned, query tampered': async (t, x) => presigned(t, x, {}, (u) => `${u}&force=true`),
  // S3 presigned URLs sign UNSIGNED-PAYLOAD by design: only the other APIs' bodies are covered.
  'presigned, body swapped': async (t, x) => (x.service === 's3' ? undefined : presigned(t, x, {}, undefined, x.otherBody)),
  'presigned, unsigned x-amz-* header added': async (t, x) => presigned(t, x, {}, undefined, undefined, { 'x-amz-copy-source': '/fz-bucket/fz/key.bin' }),
  'presigned, expiry beyond seven days': async (t, x) => presigned(t, x, {}, (u) => u.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801')),
  'aws-chunked upload with a forged chunk signature': async (t, x) => {
    if (x.service !== 's3') return undefined;
    const payload = `5;chunk-signature=${'0'.repeat(64)}\r\nhello\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`;
    const h = await signHeaders(t.url, { method: 'PUT', path: x.req.path, body: payload, headers: { 'content-type': null, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } },
      { service: 's3', contentSha256Header: false });
    return sendRaw(t.url, { method: 'PUT', path: x.req.path, body: payload }, h);
  },
};

async function presigned(t: TestServer, x: Target, opts: { signingDate?: Date; expiresIn?: number }, tamper?: (url: string) => string, swapBody?: string, extraHeaders: Record<string, string> = {}) {
  let url: string;
  if (x.service === 's3') {
    const s3 = s3Client(t, 'WHEN_REQUIRED');
    try {
      url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'fz-bucket', Key: x.req.path.slice('/fz-bucket/'.length) }), { expiresIn: opts.expiresIn ?? 300, ...(opts.signingDate ? { signingDate: opts.signingDate } : {}) });
    } finally {
      s3.destroy();
    }
  } else {
    url = await presignUrl(t.url, { method: x.req.method, path: x.req.path, query: x.req.query, body: typeof x.req.body === 'string' ? x.req.body : undefined }, { service: x.service, ...opts });
  }
  if (tamper) url = tamper(url);
  const res = await fetch(url, { method: x.req.method, body: swapBody ?? x.req.body, headers: { 'content-type': x.service === 's3' ? 'application/octet-stream' : 'application/json', ...extraHeaders } });
  return { status: res.status, text: await res.text() };
}

/** Seeds the guarded resources: each write of a target would change one of them. */
async function targets(t: TestServer): Promise<Target[]> {
  await t.iot.send(new CreatePackageCommand({ packageName: 'fz-guard', description: 'guarded' }));
  await t.iot.send(new CreateThingCommand({ thingName: 'fz-guard-thing' }));
  await t.iot.send(new CreateJobCommand({ jobId: 'fz-guard-job', targets: [thingArn('fz-guard-thing')], document: '{}' }));
  await putTestObject(t, 'fz-bucket', 'fz/key.bin', 'object bytes');
  const shadows = new IoTDataPlaneClient({ endpoint: t.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const devices = jobsDataClient(t);
  const s3 = s3Client(t, 'WHEN_REQUIRED');
  return [
    {
      service: 'iot', req: { method: 'PATCH', path: '/packages/fz-guard', body: '{"description":"attacked"}' }, otherBody: '{"description":"attacked2"}',
      intact: async () => {
        const d = (await t.iot.send(new GetPackageCommand({ packageName: 'fz-guard' }))).description;
        return d === 'guarded' ? undefined : `package description is now ${d}`;
      },
    },
    {
      service: 'iotdata', req: { method: 'POST', path: '/things/fz-guard-thing/shadow', body: '{"state":{"reported":{"attacked":1}}}' }, otherBody: '{"state":{"reported":{"attacked":2}}}',
      intact: async () => {
        try {
          await shadows.send(new GetThingShadowCommand({ thingName: 'fz-guard-thing' }));
          return 'a shadow was written';
        } catch (err) {
          return (err as Error).name === 'ResourceNotFoundException' ? undefined : String(err);
        } finally {
          shadows.destroy();
        }
      },
    },
    {
      service: 'iot-jobs-data', req: { method: 'POST', path: '/things/fz-guard-thing/jobs/fz-guard-job', body: '{"status":"FAILED"}' }, otherBody: '{"status":"REJECTED"}',
      intact: async () => {
        try {
          const e = (await devices.send(new DescribeJobExecutionCommand({ thingName: 'fz-guard-thing', jobId: 'fz-guard-job' }))).execution;
          return e?.status === 'QUEUED' && e.versionNumber === 1 ? undefined : `execution is ${e?.status} v${e?.versionNumber}`;
        } finally {
          devices.destroy();
        }
      },
    },
    {
      service: 's3', req: { method: 'PUT', path: '/fz-bucket/guard.bin', body: 'attacked', headers: { 'content-type': 'application/octet-stream' } }, otherBody: 'attacked-2',
      intact: async () => {
        try {
          await s3.send(new HeadObjectCommand({ Bucket: 'fz-bucket', Key: 'guard.bin' }));
          return 'the guarded object was written';
        } catch (err) {
          return (err as Error).name === 'NotFound' ? undefined : String(err);
        } finally {
          s3.destroy();
        }
      },
    },
  ];
}

/** Runs every attack against every target; returns the findings (an attack that was not refused, or a write that happened). */
export async function runSigV4Attacks(t: TestServer): Promise<{ sent: number; findings: Finding[] }> {
  const findings: Finding[] = [];
  let sent = 0;
  const list = await targets(t);
  for (const target of list) {
    for (const [name, attack] of Object.entries(ATTACKS)) {
      const res = await attack(t, target);
      if (!res) continue;
      sent++;
      if (res.status < 400 || res.status >= 500) {
        findings.push({ kind: 'attack not refused', request: `${name} on ${target.service} ${target.req.method} ${target.req.path}`, detail: `${res.status} ${res.text.slice(0, 200)}` });
      }
    }
  }
  for (const target of list) {
    const damage = await target.intact();
    if (damage) findings.push({ kind: 'attack changed data', request: `${target.service} ${target.req.method} ${target.req.path}`, detail: damage });
  }
  return { sent, findings };
}

export const ATTACK_NAMES = Object.keys(ATTACKS);
