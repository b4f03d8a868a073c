import type { TestServer } from '../support/server.js';
import { presignedMqttUrl, upgrade } from '../support/websocket.js';
import * as m from './mutations.js';
import { Prng } from './prng.js';
import type { Finding } from './route-fuzzer.js';

/**
 * Mutated presigned URLs on the MQTT-over-WebSocket door (`/mqtt`, decision 0043): parameters
 * dropped, duplicated, altered or replaced by garbage, broken percent-encoding, odd dates and
 * expiries. Each must be answered 101 (only the unaltered URL) or a 4xx with an AWS error body,
 * never a 5xx, a hang or a dead door.
 */
const PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'];
const ODD = ['', '%ZZ', '%', '%ED%A0%80', '0', '-1', '1e309', '604801', 'AWS4-HMAC-SHA1', 'a/b/c/d/e/f', 'x'.repeat(5000), '20261301T250000Z', 'host', 'connection;host;x-amz-date'];

function mutate(r: Prng, url: string): string {
  const [path, query] = url.slice(url.indexOf('/mqtt')).split('?');
  let pairs = query.split('&');
  for (let n = 1 + r.int(3); n > 0; n--) {
    switch (r.int(6)) {
      case 0: pairs.splice(r.int(pairs.length), 1); break;
      case 1: pairs.push(r.pick(pairs)); break;
      case 2: pairs.push(`${r.pick(PARAMS)}=${r.pick(ODD)}`); break;
      case 3: {
        const i = r.int(pairs.length);
        pairs[i] = `${pairs[i].split('=')[0]}=${r.chance(0.5) ? r.pick(ODD) : m.pct(m.name(r))}`;
        break;
      }
      case 4: pairs = r.some(pairs, 0.7).reverse(); break;
      default: pairs.push(`${m.pct(m.name(r))}=${m.pct(m.name(r))}`);
    }
  }
  const p = r.chance(0.1) ? r.pick(['/mqtt/', '/MQTT', '/mqtt%2F', '//mqtt']) : path;
  return `${p}?${pairs.join('&')}`;
}

export async function fuzzWebSocketUpgrades(t: TestServer, opts: { iterations: number; seed: number }): Promise<{ sent: number; findings: Finding[] }> {
  const r = new Prng(opts.seed * 31337);
  const findings: Finding[] = [];
  const good = await presignedMqttUrl(t.url);
  let sent = 0;
  for (let i = 0; i < opts.iterations; i++) {
    const target = mutate(r, good);
    const describe = `GET ${target.slice(0, 160)} (upgrade; seed ${opts.seed}, #${i})`;
    sent++;
    const answer = await upgrade(t.url, target).catch((err: Error) => ({ status: -1, body: err.message }));
    if (answer.status === -1) findings.push({ kind: 'no answer', request: describe, detail: answer.body });
    else if (answer.status >= 500) findings.push({ kind: 'bad answer', request: describe, detail: `${answer.status} ${answer.body.slice(0, 200)}` });
    else if (answer.status !== 101) {
      try {
        const body = JSON.parse(answer.body) as { __type?: unknown; message?: unknown };
        if (typeof body.__type !== 'string' || typeof body.message !== 'string') throw new Error('no __type / message');
      } catch {
        findings.push({ kind: 'bad answer', request: describe, detail: `${answer.status} without an AWS error: ${answer.body.slice(0, 200)}` });
      }
    }
  }
  const after = await upgrade(t.url, good.slice(good.indexOf('/mqtt'))).catch(() => ({ status: 0 }));
  if (after.status !== 101) findings.push({ kind: 'door broken', request: 'the unaltered presigned URL after the fuzz', detail: String(after.status) });
  return { sent, findings };
}
