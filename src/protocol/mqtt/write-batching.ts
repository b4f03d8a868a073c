import type { Socket } from 'node:net';

/**
 * One socket write per connection per turn of the event loop, not one per MQTT packet.
 *
 * mqtt-packet corks the socket for each packet it writes and uncorks it on the next tick, so
 * every packet aedes sends is its own writev (and, over TLS, its own record): ~17% of the
 * server's CPU in the 10,000-device job phase went to those syscalls. A batched socket keeps the
 * cork until setImmediate, so whatever this turn wrote to the connection leaves in one writev.
 *
 * A jobs request holds the socket (`hold`) from when it is authorized until it is answered, so
 * its PUBACK (which aedes writes as the packet arrives) leaves with its accepted or rejected reply
 * and the notify-next that follows it. Each `release` flushes at the next setImmediate whatever
 * other requests are still pending, so a client that keeps requests in flight is not held past
 * the end of each one. A buffer past the socket's high-water mark leaves at once, held or not: its
 * writer waits for 'drain'. Decision 0053.
 */
export interface WriteBatch {
  hold(): void;
  release(): void;
}

const batches = new WeakMap<object, WriteBatch>();

/** Makes `socket` batch its writes; answers its batch (hold and release). */
export function batchWrites(socket: Socket): WriteBatch {
  const cork = socket.cork.bind(socket);
  const uncork = socket.uncork.bind(socket);
  let corked = false;
  let holds = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!corked) return;
    corked = false;
    uncork();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  socket.cork = () => {
    if (corked) return;
    corked = true;
    cork();
  };
  socket.uncork = () => {
    // Past the high-water mark a writer waits for 'drain' (aedes does, before it finishes the
    // publish that is holding this socket): the buffer leaves now, hold or not.
    if (socket.destroyed || socket.writableNeedDrain) flush();
    else if (holds === 0) schedule();
  };
  // What was written before a close leaves before it (a CONNACK refusing a client, then the
  // close), at once: destroy() would drop a corked buffer, and end() would wait for it.
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    if (!socket.destroyed && socket.writable) flush();
    return destroy(error);
  };
  const end = socket.end.bind(socket) as (...args: unknown[]) => Socket;
  socket.end = ((...args: unknown[]) => {
    if (!socket.destroyed && socket.writable) flush();
    return end(...args);
  }) as typeof socket.end;
  const batch: WriteBatch = {
    hold() {
      holds++;
      socket.cork();
    },
    release() {
      if (holds > 0) holds--;
      schedule();
    },
  };
  batches.set(socket, batch);
  return batch;
}

/** The batch of a socket batchWrites was given, if it was. */
export function writeBatchOf(stream: object | undefined): WriteBatch | undefined {
  return stream === undefined ? undefined : batches.get(stream);
}
