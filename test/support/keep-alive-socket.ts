import { connect, type Socket } from 'node:net';

/**
 * One kept-alive TCP connection that sends requests written by the test and reads each answer by
 * its own framing (status line, headers, Content-Length bytes), the way a pooling proxy would. A
 * server that writes a second status line, or a length it does not send, shows up as a garbled or
 * missing next answer.
 */
export interface ParsedResponse {
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class KeepAliveSocket {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(baseUrl: string): Promise<KeepAliveSocket> {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname, () => resolve(new KeepAliveSocket(s)));
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async more(deadline: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString('latin1'))}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete answer in time; read so far: ${JSON.stringify(this.buffer.toString('latin1'))}`)), Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Writes a request: `head` without the final blank line; the body's length is added. */
  send(method: string, target: string, headers: Record<string, string>, body = ''): void {
    const lines = [`${method} ${target} HTTP/1.1`];
    const all: Record<string, string> = { ...headers };
    if (body.length > 0 && all['content-length'] === undefined) all['content-length'] = String(Buffer.byteLength(body));
    for (const [k, v] of Object.entries(all)) lines.push(`${k}: ${v}`);
    this.socket.write(lines.join('\r\n') + '\r\n\r\n' + body);
  }

  /** Reads one answer; `head` for a HEAD request (no body whatever the length says). */
  async read(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<ParsedResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    let end: number;
    while ((end = this.buffer.indexOf('\r\n\r\n')) < 0) await this.more(deadline);
    const headText = this.buffer.subarray(0, end).toString('latin1');
    const [statusLine, ...lines] = headText.split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const noBody = opts.head || status === 204 || status === 304;
    const length = noBody ? 0 : Number(headers['content-length'] ?? 0);
    while (this.buffer.length < end + 4 + length) await this.more(deadline);
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4 + length);
    return { statusLine, status, headers, body };
  }

  close(): void {
    this.socket.destroy();
  }
}
