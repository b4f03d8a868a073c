import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { DomainError } from '../../domain/errors.js';
import { statusOf } from '../http/errors.js';
import type { SigV4Verifier } from '../http/sigv4.js';

/**
 * MQTT over WebSockets on the HTTP port, at `/mqtt`, as AWS IoT's data endpoint serves it
 * (device-security.md §6.3; decision 0043): the upgrade must carry a SigV4-presigned URL for the
 * signing name `iotdevicegateway`; a bad one is refused before the upgrade (403, the restJson1
 * error as the body). The WebSocket's bytes then go to the same broker as the TCP listener, so
 * identity, authorization and the per-client limits are the same.
 */
export const MQTT_WEBSOCKET_PATH = '/mqtt';
const SIGNING_NAME = 'iotdevicegateway';
/** An MQTT packet arrives in one WebSocket message; AWS's payload limit is 128 KiB. */
const MAX_MESSAGE_BYTES = 256 * 1024;

export interface WebSocketDoorOptions {
  server: Server;
  /** Undefined with --no-auth: any upgrade to /mqtt is taken. */
  verifier?: SigV4Verifier;
  /** The broker's connection handler (aedes' `handle`). */
  handle: (stream: Duplex, req: IncomingMessage) => void;
  log: Logger;
}

function refuse(socket: Duplex, status: number, name: string, message: string): void {
  const body = JSON.stringify({ __type: name, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: ${name}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Serves `/mqtt` upgrades on `server`; returns the function that closes the open WebSockets. */
export function attachMqttWebSocket(o: WebSocketDoorOptions): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // The Device SDK and mqtt.js ask for `mqtt`; a client that names none is served too.
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?', 1)[0];
    if (path !== MQTT_WEBSOCKET_PATH) {
      refuse(socket, 404, 'UnknownOperationException', `No WebSocket endpoint at ${path}; MQTT over WebSockets is at ${MQTT_WEBSOCKET_PATH}.`);
      return;
    }
    const verified = o.verifier
      ? o.verifier.verifyWebSocketUrl({ method: req.method ?? 'GET', rawUrl, headers: req.headers }, SIGNING_NAME)
      : Promise.resolve(undefined);
    verified.then(
      () => {
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => {
          const stream = createWebSocketStream(ws);
          stream.on('error', () => undefined);
          o.handle(stream, req);
        });
      },
      (err: unknown) => {
        const known = err instanceof DomainError;
        const name = known ? err.errorName : 'InternalFailureException';
        o.log.warn({ reason: known ? err.message : String(err), remoteAddress: req.socket.remoteAddress }, 'MQTT WebSocket upgrade refused');
        refuse(socket, known ? statusOf(err.errorName) : 500, name, known ? err.message : 'Internal service failure.');
      },
    );
  };
  o.server.on('upgrade', onUpgrade);
  return () => {
    o.server.off('upgrade', onUpgrade);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}
