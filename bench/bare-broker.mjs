// The raw ceiling for `npm run bench:mqtt`: a bare aedes that answers the devices' jobs requests
// at once, with no job logic, no database and no authorization. A client whose id is
// `bench-control` publishing `bench/go` gives every connected client a job and tells it on
// notify-next, as a release does. Prints its URL as its first line.
import net from 'node:net';
import { Aedes } from 'aedes';

// As fleetjobs' embedded broker is configured (embedded-broker.ts: concurrency 0).
const broker = await Aedes.createBroker({ keepaliveLimit: 1200, concurrency: 0 });
const pending = new Set();
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED']);
const send = (client, topic, body) =>
  client.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 0, retain: false, dup: false }, () => undefined);
const job = (thingName, timestamp) => ({ jobId: 'bare', thingName, status: 'IN_PROGRESS', queuedAt: timestamp, startedAt: timestamp, lastUpdatedAt: timestamp, versionNumber: 2, executionNumber: 1, jobDocument: {} });

broker.published = (packet, client, done) => {
  if (!client) return done();
  if (packet.topic === 'bench/go') {
    const timestamp = Math.floor(Date.now() / 1000);
    for (const [id, c] of Object.entries(broker.clients)) {
      if (id === 'bench-control') continue;
      pending.add(id);
      send(c, `$aws/things/${id}/jobs/notify-next`, { timestamp, execution: { ...job(id, timestamp), status: 'QUEUED', versionNumber: 1 } });
    }
    return done();
  }
  const m = /^\$aws\/things\/([^/]+)\/jobs\/(.+)$/.exec(packet.topic);
  if (!m) return done();
  const [, thing, rest] = m;
  let body = {};
  try {
    body = JSON.parse(packet.payload.toString());
  } catch {
    /* answered like an empty request */
  }
  const timestamp = Math.floor(Date.now() / 1000);
  if (rest === 'start-next') {
    send(client, `${packet.topic}/accepted`, { clientToken: body.clientToken, timestamp, ...(pending.has(thing) ? { execution: job(thing, timestamp) } : {}) });
  } else if (rest.endsWith('/update')) {
    send(client, `${packet.topic}/accepted`, { clientToken: body.clientToken, timestamp });
    if (TERMINAL.has(body.status)) {
      pending.delete(thing);
      send(client, `$aws/things/${thing}/jobs/notify-next`, { timestamp });
    }
  }
  done();
};

const server = net.createServer(broker.handle);
server.listen(0, '127.0.0.1', () => process.stdout.write(`bare broker listening on mqtt://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => broker.close(() => server.close(() => process.exit(0))));
