import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreatePackageCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { KeepAliveSocket } from '../support/keep-alive-socket.js';
import { signHeaders } from '../support/raw-signed-http.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BUSY = 100;
const LATE = 300;
/** Rounds a busy client may complete while the late ones wait for their first answer. */
const ROUNDS_ALLOWED = 200;

/**
 * Issue 8, item 7: under a burst, a connection opened late must not starve while early ones are
 * served again and again (libuv accepts one connection per event-loop turn; decision 0012). The
 * property is an order, not a time: every late connection has its first answer before any busy
 * client completes ROUNDS_ALLOWED requests. Before the fix, late connections waited until the
 * busy clients stopped.
 */
for (const backend of await testBackends()) {
  describe(`HTTP door under a burst of connections (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreatePackageCommand({ packageName: 'burst' }));
    });
    after(async () => t?.close());

    it('answers every late connection while busy clients are still being served', async () => {
      const headers = await signHeaders(t.url, { method: 'GET', path: '/packages/burst' });
      delete headers.connection;
      let stop = false;
      let maxRounds = 0;
      const busy = await Promise.all(Array.from({ length: BUSY }, () => KeepAliveSocket.open(t.url)));
      const loops = busy.map(async (socket) => {
        for (let round = 1; !stop; round++) {
          socket.send('GET', '/packages/burst', headers);
          assert.equal((await socket.read({ timeoutMs: 60_000 })).status, 200);
          maxRounds = Math.max(maxRounds, round);
          if (round >= ROUNDS_ALLOWED) break;
        }
      });
      // Let the busy clients get going, then open the late connections all at once.
      while (maxRounds < 3) await new Promise((r) => setImmediate(r));
      const late = await Promise.all(Array.from({ length: LATE }, () => KeepAliveSocket.open(t.url)));
      const roundsWhenAnswered = await Promise.all(late.map(async (socket) => {
        socket.send('GET', '/packages/burst', headers);
        assert.equal((await socket.read({ timeoutMs: 60_000 })).status, 200);
        return maxRounds;
      }));
      stop = true;
      await Promise.all(loops);
      for (const s of [...busy, ...late]) s.close();
      const worst = Math.max(...roundsWhenAnswered);
      if (process.env.FLEETJOBS_TEST_VERBOSE) console.log(`late connections answered by busy round ${worst}`);
      assert.ok(worst < ROUNDS_ALLOWED, `a late connection was answered only after a busy client had ${worst} answers`);
    });
  });
}
