import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsChunkedDecoder, AwsChunkedError, AwsChunkedParser, signingKey, type AwsChunkedOptions } from '../../src/protocol/s3/aws-chunked.js';

// The worked example of AWS's "Transferring payload in multiple chunks" pages: 66560 bytes of 'a'
// sent as 65536 + 1024 + 0, secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z.
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOC_DATE = '20130524T000000Z';
const DOC_SCOPE = '20130524/us-east-1/s3/aws4_request';
const DOC_DATA = Buffer.alloc(66560, 'a');
const docSigning = (seedSignature: string) => ({ signingKey: signingKey(DOC_SECRET, '20130524', 'us-east-1', 's3'), amzDate: DOC_DATE, scope: DOC_SCOPE, seedSignature });

function signedBody(signatures: string[], trailer = ''): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${signatures[0]}\r\n`),
    DOC_DATA.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${signatures[1]}\r\n`),
    DOC_DATA.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${signatures[2]}\r\n${trailer}\r\n`),
  ]);
}

/** Feeds the body in pieces of `step` bytes, as a socket might deliver it. */
function decode(body: Buffer, options: AwsChunkedOptions, step = body.length): { data: Buffer; parser: AwsChunkedParser } {
  const parser = new AwsChunkedParser(options);
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += step) out.push(...parser.push(body.subarray(i, i + step)));
  parser.end();
  return { data: Buffer.concat(out), parser };
}

function expectChunkedError(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof AwsChunkedError && err.code === code);
}

describe('aws-chunked decoding', () => {
  const SIGNED = ['ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497', 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'];
  const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';

  it("verifies AWS's documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD example, whatever the read sizes", () => {
    for (const step of [1, 7, 4096, 70000]) {
      const { data } = decode(signedBody(SIGNED), { signedChunks: true, signing: docSigning(SEED), decodedLength: 66560 }, step);
      assert.equal(data.length, 66560);
      assert.ok(data.equals(DOC_DATA));
    }
  });

  it('refuses a chunk whose signature does not chain, and data changed under a valid signature', () => {
    const wrong = [...SIGNED];
    wrong[1] = SIGNED[2];
    expectChunkedError(() => decode(signedBody(wrong), { signedChunks: true, signing: docSigning(SEED) }), 'SignatureDoesNotMatch');
    const tampered = signedBody(SIGNED);
    tampered[200] = 'b'.charCodeAt(0);
    expectChunkedError(() => decode(tampered, { signedChunks: true, signing: docSigning(SEED) }), 'SignatureDoesNotMatch');
    // Without a key to check against (authentication off) the framing is still stripped.
    assert.equal(decode(signedBody(wrong), { signedChunks: true }).data.length, 66560);
  });

  it("verifies AWS's documented signed-chunks-with-trailer example (CRC32C trailer and trailer signature)", () => {
    const sigs = ['b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2', '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7', '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992'];
    const trailer = 'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n';
    const options = { signedChunks: true, signing: docSigning('106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e'), trailer: 'x-amz-checksum-crc32c', decodedLength: 66560 };
    const { data, parser } = decode(signedBody(sigs, trailer), options, 1000);
    assert.equal(data.length, 66560);
    assert.equal(parser.trailers['x-amz-checksum-crc32c'], 'sOO8/Q==');
    expectChunkedError(() => decode(signedBody(sigs, trailer.replace('sOO8/Q==', 'AAAAAA==')), { ...options, signing: undefined }), 'BadDigest');
    expectChunkedError(() => decode(signedBody(sigs, trailer.replace('d81f82fc', 'e81f82fc')), options), 'SignatureDoesNotMatch');
  });

  it('chains chunk signatures the way @smithy/signature-v4 signs strings', async () => {
    // An independent signer produces the chain; the decoder must accept it.
    const signer = new SignatureV4({ credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, region: 'eu-west-1', service: 's3', sha256: Sha256 });
    const when = new Date(Date.UTC(2026, 1, 3, 4, 5, 6));
    const amzDate = '20260203T040506Z';
    const scope = '20260203/eu-west-1/s3/aws4_request';
    const seed = 'a'.repeat(64);
    const chunks = [Buffer.from('hello '), Buffer.from('world'), Buffer.alloc(0)];
    let prev = seed;
    const parts: Buffer[] = [];
    for (const c of chunks) {
      const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, createHash('sha256').update('').digest('hex'), createHash('sha256').update(c).digest('hex')].join('\n');
      prev = await signer.sign(sts, { signingDate: when });
      parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), c, Buffer.from('\r\n'));
    }
    const { data } = decode(Buffer.concat(parts), { signedChunks: true, signing: { signingKey: signingKey('secret', '20260203', 'eu-west-1', 's3'), amzDate, scope, seedSignature: seed }, decodedLength: 11 }, 3);
    assert.equal(data.toString(), 'hello world');
  });

  it('decodes STREAMING-UNSIGNED-PAYLOAD-TRAILER as client-s3 sends it and checks the CRC32', () => {
    const body = Buffer.from('6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');
    const options = { signedChunks: false, trailer: 'x-amz-checksum-crc32', decodedLength: 11 };
    for (const step of [1, 2, 5, body.length]) assert.equal(decode(body, options, step).data.toString(), 'hello world');
    expectChunkedError(() => decode(Buffer.from(body.toString().replace('DUoRhQ==', 'NhCmhg==')), options), 'BadDigest');
    expectChunkedError(() => decode(Buffer.from(body.toString().replace('x-amz-checksum-crc32:DUoRhQ==\r\n', '')), options), 'MalformedTrailerError');
  });

  it('refuses truncated bodies, a wrong decoded length and broken framing', () => {
    const full = Buffer.from('6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n');
    expectChunkedError(() => decode(full.subarray(0, 15), { signedChunks: false }), 'IncompleteBody');
    expectChunkedError(() => decode(full, { signedChunks: false, decodedLength: 12 }), 'IncompleteBody');
    expectChunkedError(() => decode(full, { signedChunks: false, decodedLength: 5 }), 'IncompleteBody');
    expectChunkedError(() => decode(Buffer.from('zz\r\nhello\r\n0\r\n\r\n'), { signedChunks: false }), 'InvalidRequest');
    expectChunkedError(() => decode(Buffer.from('5\r\nhelloXX0\r\n\r\n'), { signedChunks: false }), 'InvalidRequest');
    expectChunkedError(() => decode(Buffer.from('5\r\nhello\r\n0\r\n\r\n'), { signedChunks: true }), 'SignatureDoesNotMatch');
    expectChunkedError(() => decode(Buffer.from(`${'1'.repeat(5000)}`), { signedChunks: false }), 'InvalidRequest');
  });

  it('works as a stream and fails the stream on bad input', async () => {
    const ok = Readable.from([Buffer.from('6\r\nhel'), Buffer.from('lo \r\n5\r\nworld\r\n0\r\n'), Buffer.from('\r\n')]).pipe(new AwsChunkedDecoder({ signedChunks: false, decodedLength: 11 }));
    const got: Buffer[] = [];
    for await (const c of ok) got.push(c as Buffer);
    assert.equal(Buffer.concat(got).toString(), 'hello world');

    const bad = Readable.from([Buffer.from('6\r\nhello ')]).pipe(new AwsChunkedDecoder({ signedChunks: false }));
    await assert.rejects(async () => {
      for await (const _ of bad) void _;
    }, (err: unknown) => err instanceof AwsChunkedError && err.code === 'IncompleteBody');
  });
});

/** SHA-256 / HMAC-SHA-256 in the shape @smithy/signature-v4 takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}
