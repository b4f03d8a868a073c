import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { algorithmOfHeader, createChecksum, type Checksum } from './checksums.js';

/**
 * Decoder for S3's `aws-chunked` content encoding (wire.md §8.3):
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n...]\r\n
 *
 * Emits only the decoded object bytes. Verifies, when configured, each chunk's signature
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: a chain seeded by the request signature), the
 * trailer's signature, the checksum named in x-amz-trailer, and x-amz-decoded-content-length.
 */

export type AwsChunkedErrorCode = 'IncompleteBody' | 'InvalidRequest' | 'SignatureDoesNotMatch' | 'BadDigest' | 'MalformedTrailerError';

export class AwsChunkedError extends Error {
  constructor(
    readonly code: AwsChunkedErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export interface ChunkSigning {
  /** The SigV4 signing key (HMAC chain of secret, date, region, service). */
  signingKey: Buffer;
  /** x-amz-date of the request. */
  amzDate: string;
  /** `<yyyymmdd>/<region>/<service>/aws4_request` */
  scope: string;
  /** The Authorization header's signature: the first link of the chain. */
  seedSignature: string;
}

export interface AwsChunkedOptions {
  /** Chunk lines carry `;chunk-signature=` (STREAMING-AWS4-HMAC-SHA256-PAYLOAD*). */
  signedChunks: boolean;
  /** Verify the chunk (and trailer) signatures with this; omitted when authentication is off. */
  signing?: ChunkSigning;
  /** x-amz-trailer: the trailer header the client promised (e.g. x-amz-checksum-crc32). */
  trailer?: string;
  /** x-amz-decoded-content-length */
  decodedLength?: number;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_LINE = 4096;
const MAX_TRAILERS = 16;
const CRLF = Buffer.from('\r\n');

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/** The byte-level parser; `AwsChunkedDecoder` wraps it as a stream. */
export class AwsChunkedParser {
  readonly trailers: Record<string, string> = {};
  private state: State = 'size';
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private decoded = 0;
  private chunkSignature = '';
  private chunkHash = createHash('sha256');
  private previousSignature: string;
  private readonly checksum?: Checksum;
  private trailerSignature?: string;

  constructor(private readonly options: AwsChunkedOptions) {
    this.previousSignature = options.signing?.seedSignature ?? '';
    if (options.trailer) {
      const alg = algorithmOfHeader(options.trailer);
      if (alg) this.checksum = createChecksum(alg);
    }
  }

  /** Feeds framed bytes; returns the decoded bytes they complete. */
  push(input: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input;
    this.pending = Buffer.alloc(0);
    let pos = 0;
    while (pos < buf.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buf.length - pos);
        const piece = buf.subarray(pos, pos + n);
        this.emit(piece, out);
        pos += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'data-crlf';
        continue;
      }
      if (this.state === 'data-crlf') {
        if (buf.length - pos < 2) break;
        if (buf[pos] !== 0x0d || buf[pos + 1] !== 0x0a) throw new AwsChunkedError('InvalidRequest', 'aws-chunked: a chunk is not followed by CRLF.');
        pos += 2;
        this.finishChunk();
        this.state = 'size';
        continue;
      }
      const eol = buf.indexOf(CRLF, pos);
      if (eol < 0) {
        if (buf.length - pos > MAX_LINE) throw new AwsChunkedError('InvalidRequest', 'aws-chunked: header line too long.');
        break;
      }
      const line = buf.subarray(pos, eol).toString('latin1');
      pos = eol + 2;
      if (this.state === 'size') this.chunkHeader(line);
      else if (this.state === 'trailer') this.trailerLine(line);
      else if (line.length > 0) throw new AwsChunkedError('InvalidRequest', 'aws-chunked: data after the final chunk.');
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    buf = Buffer.alloc(0);
    return out;
  }

  /** Called at end of input; throws unless the body was complete and every check holds. */
  end(): void {
    if (this.state === 'trailer' && this.pending.length === 0) this.state = 'done'; // a missing final CRLF is tolerated
    if (this.state !== 'done' || this.pending.some((b) => b !== 0x0d && b !== 0x0a)) {
      throw new AwsChunkedError('IncompleteBody', 'The request body terminated unexpectedly');
    }
    if (this.options.decodedLength !== undefined && this.decoded !== this.options.decodedLength) {
      throw new AwsChunkedError('IncompleteBody', 'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header');
    }
    const trailerName = this.options.trailer?.trim().toLowerCase();
    if (trailerName) {
      const value = this.trailers[trailerName];
      if (value === undefined) throw new AwsChunkedError('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.');
      if (this.checksum && this.checksum.digest() !== value) {
        throw new AwsChunkedError('BadDigest', `The ${this.checksum.algorithm} you specified did not match the calculated checksum.`);
      }
    }
    if (this.options.signing && this.trailerSignature !== undefined) this.verifyTrailerSignature();
    else if (this.options.signing && this.options.signedChunks && trailerName) {
      throw new AwsChunkedError('SignatureDoesNotMatch', 'The trailer signature is missing.');
    }
  }

  get decodedBytes(): number {
    return this.decoded;
  }

  private emit(piece: Buffer, out: Buffer[]): void {
    if (piece.length === 0) return;
    this.decoded += piece.length;
    if (this.options.decodedLength !== undefined && this.decoded > this.options.decodedLength) {
      throw new AwsChunkedError('IncompleteBody', 'The body is longer than x-amz-decoded-content-length.');
    }
    if (this.options.signing) this.chunkHash.update(piece);
    this.checksum?.update(piece);
    out.push(piece);
  }

  private chunkHeader(line: string): void {
    const m = /^([0-9a-fA-F]{1,15})(;.*)?$/.exec(line);
    if (!m) throw new AwsChunkedError('InvalidRequest', 'aws-chunked: malformed chunk size line.');
    const size = parseInt(m[1], 16);
    if (this.options.signedChunks) {
      const sig = /^;chunk-signature=([0-9a-f]{64})$/.exec(m[2] ?? '');
      if (!sig) throw new AwsChunkedError('SignatureDoesNotMatch', 'aws-chunked: a chunk has no valid chunk-signature.');
      this.chunkSignature = sig[1];
    }
    if (size === 0) {
      this.finishChunk();
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  private finishChunk(): void {
    if (!this.options.signing || !this.options.signedChunks) return;
    const { signingKey, amzDate, scope } = this.options.signing;
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, this.previousSignature, EMPTY_SHA256, this.chunkHash.digest('hex')].join('\n');
    const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
    if (!equalHex(expected, this.chunkSignature)) {
      throw new AwsChunkedError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    this.previousSignature = expected;
    this.chunkHash = createHash('sha256');
  }

  private trailerLine(line: string): void {
    if (line.length === 0) {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || Object.keys(this.trailers).length >= MAX_TRAILERS) {
      throw new AwsChunkedError('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.');
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') this.trailerSignature = value;
    else this.trailers[name] = value;
  }

  private verifyTrailerSignature(): void {
    const { signingKey, amzDate, scope } = this.options.signing!;
    const canonical = Object.entries(this.trailers).map(([k, v]) => `${k}:${v}\n`).join('');
    const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, this.previousSignature, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
    if (!equalHex(expected, this.trailerSignature ?? '')) {
      throw new AwsChunkedError('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
    }
  }
}

function equalHex(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The SigV4 signing key for a scope `<date>/<region>/<service>/aws4_request`. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

/** The parser as a Transform stream: framed bytes in, object bytes out. */
export class AwsChunkedDecoder extends Transform {
  readonly parser: AwsChunkedParser;

  constructor(options: AwsChunkedOptions) {
    super();
    this.parser = new AwsChunkedParser(options);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      for (const piece of this.parser.push(chunk)) this.push(piece);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.parser.end();
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
