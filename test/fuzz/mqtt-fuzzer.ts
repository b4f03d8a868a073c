import net from 'node:net';
import { CreateJobCommand, CreateThingCommand } from '@aws-sdk/client-iot';
import mqtt, { type MqttClient } from 'mqtt';
import type { VirtualClock } from '../../src/clock.js';
import { thingArn } from '../support/jobs.js';
import type { TestServer } from '../support/server.js';
import * as m from './mutations.js';
import { Prng } from './prng.js';
import type { Finding } from './route-fuzzer.js';

/**
 * Every MQTT topic family a device may publish to (issue 11 item 7): jobs get / start-next /
 * {jobId}/get / {jobId}/update, shadow get / update / delete (classic and named), the device's own
 * non-request topics, foreign and reserved topics, with plausible, mutated, malformed (not JSON,
 * not UTF-8) and huge payloads, plus raw malformed MQTT frames. A finding is a request that gets
 * no answer (a hang), a dead broker or HTTP door, or anything stored that changed for a thing no
 * fuzzing device may act for (every publish there is refused).
 */
export interface MqttFuzzReport {
  sent: number;
  replies: { accepted: number; rejected: number };
  /** Publishes after which the broker closed the connection (foreign topics, wildcards…). */
  closed: number;
  findings: Finding[];
}

const WORKER_THING = (w: number) => `fz-mqtt-${w}`;
export const MQTT_FUZZ_JOB = 'fz-mqtt-job';
/** Nobody fuzzes as this thing: whatever is published for it must leave it as it was. */
const BYSTANDER = m.SEEDED.thing2;
const REQUEST = /^\$aws\/things\/[^/]+\/(jobs\/(get|start-next|[^/]+\/get|[^/]+\/update)|shadow(\/name\/[^/]+)?\/(get|update|delete))$/;
/** The broker's per-connection publish rate (decision 0042): the fuzz advances the rate clock before reaching it. */
const PUBLISHES_PER_TICK = 90;

export async function seedMqttFuzzTargets(t: TestServer, workers: number): Promise<void> {
  for (let w = 0; w < workers; w++) await t.iot.send(new CreateThingCommand({ thingName: WORKER_THING(w) }));
  await t.iot.send(new CreateJobCommand({ jobId: MQTT_FUZZ_JOB, targets: Array.from({ length: workers }, (_, w) => thingArn(WORKER_THING(w))), document: '{"step":"mqtt"}' }));
}

function jobId(r: Prng): string {
  return r.chance(0.5) ? r.pick([MQTT_FUZZ_JOB, '$next', m.SEEDED.job]) : m.name(r);
}

function shadowName(r: Prng): string {
  return r.chance(0.5) ? r.pick(['cfg', '$package', 'a'.repeat(64), 'a'.repeat(65)]) : m.name(r);
}

function topic(r: Prng, thing: string): string {
  const own = `$aws/things/${thing}`;
  switch (r.int(12)) {
    case 0: return `${own}/jobs/get`;
    case 1: return `${own}/jobs/start-next`;
    case 2: return `${own}/jobs/${jobId(r)}/get`;
    case 3: return `${own}/jobs/${jobId(r)}/update`;
    case 4: return `${own}/shadow/${r.pick(['get', 'update', 'delete'])}`;
    case 5: return `${own}/shadow/name/${shadowName(r)}/${r.pick(['get', 'update', 'delete'])}`;
    // The device's own topics that are no request (replies, notifications, odd suffixes).
    case 6: return `${own}/${r.pick(['jobs/notify', 'jobs/notify-next', 'jobs/get/accepted', 'shadow/update/delta', 'shadow/update/documents', 'jobs', 'shadow', 'shadow/name', 'jobs/x/y/z', 'other'])}`;
    // Foreign and reserved topics: refused by closing the connection.
    case 7: return `$aws/things/${BYSTANDER}/${r.pick(['jobs/get', 'jobs/start-next', `jobs/${MQTT_FUZZ_JOB}/update`, 'shadow/update', 'shadow/name/cfg/delete'])}`;
    case 8: return r.pick(['a/b', '$SYS/broker', '$aws/rules/r', '$aws/events/presence/connected/x', '$aws/things', '$aws/things/', 'x'.repeat(300), '/'.repeat(20), `${own}/${'l/'.repeat(120)}x`]);
    case 9: return r.pick([`${own}/jobs/+/get`, `${own}/jobs/#`, `${own}/shadow/+`]);
    default: return `${own}/${r.pick(['jobs', 'shadow'])}/${m.name(r).replace(/[+#]/g, '')}`;
  }
}

function payload(r: Prng, t: string): string | Buffer {
  const roll = r.int(20);
  if (roll === 0) return Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]); // not UTF-8
  if (roll === 1) return r.pick(['', '{', 'null', '[]', '"s"', '42', '\u0000', '{"a":1,}', '{"a":"\\ud800"}', '{"__proto__":{"polluted":1}}', 'x'.repeat(1000)]);
  if (roll === 2) return JSON.stringify({ state: { desired: { blob: 'x'.repeat(r.pick([9_000, 140_000, 600_000])) } } });
  if (roll === 3) return JSON.stringify({ statusDetails: { k: 'v'.repeat(r.pick([1_100, 140_000])) }, status: 'IN_PROGRESS' });
  const token = r.chance(0.8) ? { clientToken: r.chance(0.9) ? `fz${r.int(1e9)}` : m.scalar(r) } : {};
  if (t.includes('/shadow')) {
    const state = r.chance(0.7) ? { desired: m.value(r), reported: m.value(r) } : m.value(r);
    return JSON.stringify({ state, ...(r.chance(0.3) ? { version: m.scalar(r) } : {}), ...token, ...(r.chance(0.2) ? m.object(r) : {}) });
  }
  const update = { status: m.scalar(r), statusDetails: r.chance(0.5) ? { p: String(m.scalar(r)) } : m.value(r), expectedVersion: m.scalar(r), stepTimeoutInMinutes: m.scalar(r), includeJobDocument: m.scalar(r), executionNumber: m.scalar(r) };
  return JSON.stringify({ ...(r.chance(0.6) ? update : m.object(r)), ...token });
}

/** Connects as the thing, subscribed to its whole subtree: shadow answers go to subscribers (jobs answers go to the requester anyway). */
async function connect(url: string, thing: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId: thing, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clean: true });
  await client.subscribeAsync(`$aws/things/${thing}/#`, { qos: 0 });
  return client;
}

/** `unsent`: mqtt.js itself refused to send it (a wildcard in a topic). */
type Outcome = 'accepted' | 'rejected' | 'acked' | 'closed' | 'unsent';

/** Publishes once and waits for what must follow: a reply to a request, a PUBACK otherwise, or the connection's close. */
function publishOnce(client: MqttClient, sent: string, body: string | Buffer, timeoutMs: number): Promise<Outcome | 'hang'> {
  // The topic as it goes on the wire (a lone surrogate is sent as U+FFFD), which replies are named after.
  const t = Buffer.from(sent, 'utf8').toString('utf8');
  const expectsReply = REQUEST.test(t) && !/[+#]/.test(t);
  return new Promise((resolve) => {
    let acked = false;
    const finish = (o: Outcome | 'hang') => {
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      client.removeListener('close', onClose);
      resolve(o);
    };
    const onMessage = (topic: string) => {
      if (topic === `${t}/accepted`) finish('accepted');
      else if (topic === `${t}/rejected`) finish('rejected');
    };
    const onClose = () => finish('closed');
    const timer = setTimeout(() => finish(acked && !expectsReply ? 'acked' : 'hang'), timeoutMs);
    client.on('message', onMessage);
    client.once('close', onClose);
    client.publish(sent, body, { qos: 1 }, (err) => {
      if (err) {
        // A close tells for itself; an error on a live connection is mqtt.js refusing to send.
        if (client.connected) setImmediate(() => client.connected && finish('unsent'));
        return;
      }
      acked = true;
      if (!expectsReply) finish('acked');
    });
  });
}

/** Raw frames a broken or hostile client sends after (or instead of) a CONNECT. */
const CONNECT_FOR = (clientId: string) => {
  const id = Buffer.from(clientId);
  const variable = Buffer.concat([Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60]), Buffer.from([0, id.length]), id]);
  return Buffer.concat([Buffer.from([0x10, variable.length]), variable]);
};
const RAW_FRAMES = (thing: string): Buffer[] => [
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), // a length that never ends
  Buffer.from([0x30, 0x05, 0x00, 0x09, 0x61]), // a topic length past the packet
  Buffer.concat([CONNECT_FOR(thing), Buffer.from([0x30, 0x06, 0x00, 0x02, 0xc3, 0x28, 0x7b, 0x7d])]), // a topic that is not UTF-8
  Buffer.concat([CONNECT_FOR(thing), Buffer.from([0x30, 0x04, 0x00, 0x02, 0x00, 0x00])]), // a NUL topic
  Buffer.concat([CONNECT_FOR(thing), CONNECT_FOR(thing)]), // a second CONNECT on one connection
  Buffer.concat([CONNECT_FOR(thing), Buffer.from([0x82, 0x04, 0x00, 0x01, 0x00, 0x00])]), // SUBSCRIBE without a filter
  Buffer.concat([CONNECT_FOR('$bad-id'), Buffer.from([0xe0, 0x00])]),
  Buffer.from([0x10, 0x7f, 0x00]), // a CONNECT cut short
];

async function sendRaw(url: string, frame: Buffer): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.end(frame));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined); // a broker may keep a half-read packet waiting for its timeout; not a hang of the server
    }, 1000);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve(err.message.includes('ECONNREFUSED') ? 'broker refused a TCP connection' : undefined);
    });
  });
}

/** What is stored for the bystander thing, the one no fuzzing device may act for. */
async function bystanderState(t: TestServer): Promise<string> {
  const db = t.server.store.db;
  const executions = await db.selectFrom('job_executions').selectAll().where('thing_name', '=', BYSTANDER).orderBy('job_id').orderBy('execution_number').execute();
  const shadows = await db.selectFrom('shadows').selectAll().where('thing_name', '=', BYSTANDER).execute();
  return JSON.stringify({ executions, shadows: shadows.map((s) => JSON.stringify(s)).sort() });
}

export async function fuzzMqtt(t: TestServer, opts: { iterations: number; seed: number; workers: number; rateClock: VirtualClock }): Promise<MqttFuzzReport> {
  const url = t.server.mqttUrl!;
  const report: MqttFuzzReport = { sent: 0, replies: { accepted: 0, rejected: 0 }, closed: 0, findings: [] };
  const before = await bystanderState(t);
  const per = Math.ceil(opts.iterations / opts.workers);
  await Promise.all(
    Array.from({ length: opts.workers }, async (_, w) => {
      const r = new Prng(opts.seed * 7919 + w);
      const thing = WORKER_THING(w);
      let client = await connect(url, thing);
      let sinceTick = 0;
      try {
        for (let i = 0; i < per; i++) {
          if (++sinceTick >= PUBLISHES_PER_TICK) {
            opts.rateClock.advance(1000);
            sinceTick = 0;
          }
          const t2 = topic(r, thing);
          const body = payload(r, t2);
          const outcome = await publishOnce(client, t2, body, 5000);
          report.sent++;
          const describe = `PUBLISH ${t2.slice(0, 120)} (${Buffer.byteLength(body)} bytes; seed ${opts.seed}, worker ${w}, #${i})`;
          if (outcome === 'hang') {
            report.findings.push({ kind: 'no answer', request: describe, detail: 'no reply, PUBACK or close within 5 s' });
            // A worker stops after a few: the run stays bounded and the first ones say enough.
            if (report.findings.length >= 5) break;
          }
          if (outcome === 'accepted' || outcome === 'rejected') report.replies[outcome]++;
          // The device's own requests are answered, however malformed or large: only foreign topics, wildcards and the like close.
          if (outcome === 'closed' && REQUEST.test(t2) && t2.startsWith(`$aws/things/${thing}/`) && !/[+#]/.test(t2)) {
            report.findings.push({ kind: 'connection closed', request: describe, detail: 'the broker closed the connection on a request of the device\'s own' });
          }
          if (outcome === 'closed' || outcome === 'hang' || !client.connected) {
            if (outcome === 'closed') report.closed++;
            client.end(true);
            opts.rateClock.advance(1000); // the client id's CONNECT allowance (decision 0042)
            client = await connect(url, thing).catch((err: Error) => {
              report.findings.push({ kind: 'broker down', request: describe, detail: err.message });
              throw err;
            });
          }
        }
        for (const frame of RAW_FRAMES(thing)) {
          opts.rateClock.advance(1000);
          const problem = await sendRaw(url, frame);
          if (problem) report.findings.push({ kind: 'broker down', request: `raw frame ${frame.toString('hex').slice(0, 40)}`, detail: problem });
        }
      } finally {
        client.end(true);
      }
    }),
  );
  const after = await bystanderState(t);
  if (after !== before) report.findings.push({ kind: 'refused publish changed state', request: `topics of ${BYSTANDER}`, detail: `before ${before.slice(0, 300)}\n    after ${after.slice(0, 300)}` });
  // The broker and the HTTP door still serve.
  opts.rateClock.advance(1000);
  const probe = await connect(url, WORKER_THING(0)).catch((err: Error) => err);
  if (probe instanceof Error) report.findings.push({ kind: 'broker down', request: 'CONNECT after the fuzz', detail: probe.message });
  else {
    const outcome = await publishOnce(probe, `$aws/things/${WORKER_THING(0)}/jobs/get`, '{}', 5000);
    if (outcome !== 'accepted') report.findings.push({ kind: 'broker broken', request: 'jobs/get after the fuzz', detail: outcome });
    probe.end(true);
  }
  const health = await fetch(`${t.url}/health`).catch(() => ({ status: 0 }));
  if (health.status !== 200) report.findings.push({ kind: 'server down', request: 'GET /health', detail: String(health.status) });
  return report;
}
