/**
 * One keep-alive HTTP/1.1 connection carrying one request at a time: the load generator's client.
 * node:http's client spends more CPU per request than the server it measures (about 115 µs against
 * 130 µs on the project's machine), and both share the same two cores, so the harness would cap
 * the figure it reports. This client writes the request in one syscall and reads only the status
 * line, Content-Length and body length of the answer. The requests themselves are still signed
 * one by one by the caller, as an SDK would.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class KeepAliveClient {
  private socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private pending?: { resolve: (r: RawResponse) => void; reject: (e: Error) => void };

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (err: Error) => {
      this.pending?.reject(err);
      this.pending = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  static connect(host: string, port: number): Promise<KeepAliveClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new KeepAliveClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one request; `headers` must include host, and content-length when there is a body. */
  request(method: string, target: string, headers: Record<string, string>, body: string): Promise<RawResponse> {
    if (this.pending) return Promise.reject(new Error('one request at a time per connection'));
    let head = `${method} ${target} HTTP/1.1\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(`${head}\r\n${body}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf(HEADER_END);
    if (end < 0 || !this.pending) return;
    const head = this.buffered.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.pending.reject(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
      this.pending = undefined;
      return;
    }
    const total = end + HEADER_END.length + Number(length[1]);
    if (this.buffered.length < total) return;
    const body = this.buffered.subarray(end + HEADER_END.length, total);
    this.buffered = this.buffered.length === total ? Buffer.alloc(0) : this.buffered.subarray(total);
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve({ status, body });
  }
}
