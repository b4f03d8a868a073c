import { tableNames } from '../../src/store/reset.js';
import type { TestServer } from '../support/server.js';
import { KeepAliveSocket } from '../support/keep-alive-socket.js';
import { signHeaders } from '../support/raw-signed-http.js';
import { Prng } from './prng.js';
import { build, enc, type Finding } from './route-fuzzer.js';
import { allRoutes } from './routes.js';

/**
 * "A refused request changes nothing" (issue 11 item 7): fuzzed writes of every API sent one at a
 * time, and after each one answered 4xx every table is read again and compared with what it held
 * before. A difference is a finding that names the request and the first table that changed.
 */
/** Tables that change without any request (leases, the engine's bookkeeping, the pruned policy change log): not compared. */
const BACKGROUND = /^(kysely_|background_|server_credentials$|policy_changes$)/;

async function snapshot(t: TestServer): Promise<Map<string, string>> {
  const db = t.server.store.db;
  // The server's own schema only, read from the catalog of the current schema: Kysely's
  // introspection scans every schema and fails when another test drops its own meanwhile.
  const tables = (await tableNames(db, t.server.store.dialect)).filter((n) => !BACKGROUND.test(n)).sort();
  const out = new Map<string, string>();
  for (const name of tables) {
    const rows = await db.selectFrom(name as never).selectAll().execute();
    out.set(name, rows.map((row) => JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort().join('\n'));
  }
  return out;
}

const same = (a: Map<string, string>, b: Map<string, string>) => [...a.keys()].every((k) => a.get(k) === b.get(k)) && a.size === b.size;

/**
 * The tables once the work an earlier accepted request left to the background (the notification
 * outbox drained after commit, a job's deletion) has run: two reads in a row that agree. The server
 * runs in this process, so each read's I/O gives that work its turns.
 */
async function settled(t: TestServer): Promise<Map<string, string>> {
  let last = await snapshot(t);
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = await snapshot(t);
    if (same(last, next)) return next;
    last = next;
  }
  return last;
}

export async function checkRefusals(t: TestServer, opts: { iterations: number; seed: number }): Promise<{ sent: number; refused: number; findings: Finding[] }> {
  const writes = allRoutes().filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  const r = new Prng(opts.seed * 104729);
  const findings: Finding[] = [];
  let refused = 0;
  let socket = await KeepAliveSocket.open(t.url);
  try {
    for (let i = 0; i < opts.iterations; i++) {
      const b = build(r, writes[i % writes.length]);
      const headers = await signHeaders(t.url, { method: b.method, path: b.path, query: b.query, body: b.body, headers: b.headers }, { service: b.service });
      delete headers.connection;
      if (socket.isClosed) socket = await KeepAliveSocket.open(t.url);
      // Read just before: what an earlier accepted request left to the background (a job's deletion) is done by then.
      const before = await settled(t);
      socket.send(b.method, b.path + enc(b.query), headers, b.body ?? '');
      const res = await socket.read({ timeoutMs: 15_000 }).catch(() => undefined);
      if (!res || res.headers.connection === 'close' || socket.isClosed) {
        socket.close();
        socket = await KeepAliveSocket.open(t.url);
      }
      if (res && res.status >= 400 && res.status < 500) {
        refused++;
        const after = await snapshot(t);
        const changed = [...after.keys()].find((k) => after.get(k) !== before.get(k));
        if (changed) {
          findings.push({ kind: 'refused request changed state', request: `${b.service} ${b.method} ${b.path}${enc(b.query)} (seed ${opts.seed}, #${i})`, detail: `${res.status} ${res.body.slice(0, 200)}; table ${changed} changed` });
        }
      }
    }
  } finally {
    socket.close();
  }
  return { sent: opts.iterations, refused, findings };
}
