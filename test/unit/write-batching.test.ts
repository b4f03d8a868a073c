import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { batchWrites } from '../../src/protocol/mqtt/write-batching.js';

/** One turn of the event loop: what a batched socket keeps until (setImmediate). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Writes as mqtt-packet does: cork, write, uncork on the next tick. */
function writePacket(socket: net.Socket, bytes: string): void {
  socket.cork();
  socket.write(bytes);
  process.nextTick(() => socket.uncork());
}

describe('MQTT write batching (decision 0053), on real loopback sockets', () => {
  let server: net.Server;
  let port: number;
  const accepted: net.Socket[] = [];
  before(async () => {
    server = net.createServer((s) => accepted.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });

  /** A connected pair: the batched server side, and the peer that reads what it sent. */
  async function pair(): Promise<{ batched: net.Socket; peer: net.Socket; received: () => string; batch: ReturnType<typeof batchWrites> }> {
    const peer = net.connect(port, '127.0.0.1');
    await once(peer, 'connect');
    while (accepted.length === 0) await nextTurn();
    const batched = accepted.shift()!;
    const batch = batchWrites(batched);
    let got = '';
    peer.on('data', (d: Buffer) => (got += d.toString()));
    return { batched, peer, received: () => got, batch };
  }

  async function until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }

  it('sends what one turn wrote as one write, at the end of the turn', async () => {
    const { batched, peer, received } = await pair();
    writePacket(batched, 'a');
    writePacket(batched, 'b');
    await new Promise<void>((resolve) => process.nextTick(resolve));
    // Past the packets' own next-tick uncork, both are still buffered in the socket.
    assert.equal(batched.writableLength, 2);
    await nextTurn();
    assert.equal(batched.writableLength, 0);
    await until(() => received() === 'ab');
    peer.destroy();
  });

  it('holds a request\'s writes until it is answered, and each answer flushes even with another request in flight', async () => {
    const { batched, peer, received, batch } = await pair();
    batch.hold(); // request 1
    writePacket(batched, 'puback1;');
    batch.hold(); // request 2, pipelined
    writePacket(batched, 'puback2;');
    await nextTurn();
    await nextTurn();
    assert.equal(batched.writableLength, 'puback1;puback2;'.length, 'held while both requests are open');
    writePacket(batched, 'reply1;');
    batch.release(); // request 1 answered: flushed although request 2 is open
    await nextTurn();
    assert.equal(batched.writableLength, 0);
    await until(() => received() === 'puback1;puback2;reply1;');
    writePacket(batched, 'reply2;');
    await nextTurn();
    assert.equal(batched.writableLength, 'reply2;'.length, 'request 2 still holds its writes');
    batch.release();
    await nextTurn();
    await until(() => received() === 'puback1;puback2;reply1;reply2;');
    peer.destroy();
  });

  it('sends a held buffer past the high-water mark at once, so a writer waiting for drain gets it', { timeout: 5000 }, async () => {
    const { batched, peer, received, batch } = await pair();
    batch.hold();
    const big = 'x'.repeat(batched.writableHighWaterMark * 4);
    batched.cork();
    assert.equal(batched.write(big), false, 'the write asks its writer to wait for drain');
    const drained = once(batched, 'drain');
    process.nextTick(() => batched.uncork());
    // Still held: without the flush, drain would wait for the release, which waits for the writer.
    await drained;
    await until(() => received().length === big.length);
    batch.release();
    peer.destroy();
  });

  it('sends what was written before a destroy (a CONNACK refusal, then the close)', async () => {
    const { batched, peer, received } = await pair();
    const closed = once(peer, 'close');
    writePacket(batched, 'connack-5');
    await new Promise<void>((resolve) => process.nextTick(resolve));
    batched.destroy();
    await closed;
    assert.equal(received(), 'connack-5');
  });

  it('sends what was written before an end', async () => {
    const { batched, peer, received } = await pair();
    const ended = once(peer, 'end');
    writePacket(batched, 'last');
    batched.end();
    await ended;
    assert.equal(received(), 'last');
  });
});
