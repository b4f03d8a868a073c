import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { SignatureV4 } from '@smithy/signature-v4';
import { sendRaw, sendSigned, Sha256 } from '../support/raw-signed-http.js';
import { s3Client } from '../support/s3.js';
import { expectAwsError, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

/** Deterministic pseudo-random bytes, so a corrupted byte anywhere shows. */
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >>> 16;
  }
  return out;
}

const md5 = (b: Buffer | string) => `"${createHash('md5').update(b).digest('hex')}"`;

async function read(s3: S3Client, bucket: string, key: string, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** The embedded S3 subset through @aws-sdk/client-s3: buckets, objects, listings and S3's XML errors. */
for (const backend of await testBackends()) {
  describe(`embedded S3: buckets and objects (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    let plain: S3Client;
    before(async () => {
      t = await startTestServer(backend);
      s3 = s3Client(t);
      plain = s3Client(t, 'WHEN_REQUIRED');
      await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
    });
    after(async () => {
      s3?.destroy();
      plain?.destroy();
      await t?.close();
    });

    it('creates, lists, heads and deletes buckets', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'bucket-life' }));
      // us-east-1 answers 200 when the owner creates its bucket again.
      await s3.send(new CreateBucketCommand({ Bucket: 'bucket-life' }));
      const listed = await s3.send(new ListBucketsCommand({}));
      assert.deepEqual(listed.Buckets?.map((b) => b.Name), ['bucket-life', 'objects']);
      assert.ok(listed.Buckets![0].CreationDate instanceof Date);
      const head = await s3.send(new HeadBucketCommand({ Bucket: 'bucket-life' }));
      assert.equal(head.BucketRegion, 'us-east-1');

      await s3.send(new PutObjectCommand({ Bucket: 'bucket-life', Key: 'x', Body: 'x' }));
      await expectAwsError(s3.send(new DeleteBucketCommand({ Bucket: 'bucket-life' })), 'BucketNotEmpty', { status: 409 });
      await s3.send(new DeleteObjectCommand({ Bucket: 'bucket-life', Key: 'x' }));
      await s3.send(new DeleteBucketCommand({ Bucket: 'bucket-life' }));
      await expectAwsError(s3.send(new HeadBucketCommand({ Bucket: 'bucket-life' })), 'NotFound', { status: 404 });
      await expectAwsError(s3.send(new DeleteBucketCommand({ Bucket: 'bucket-life' })), 'NoSuchBucket', { status: 404 });
      await expectAwsError(s3.send(new CreateBucketCommand({ Bucket: 'No_Such..Name' })), 'InvalidBucketName', { status: 400 });
    });

    it('stores Buffer, aws-chunked stream and plain stream uploads byte for byte', async () => {
      const data = bytes(300_000, 7);
      // Buffer body with a CRC32 header.
      const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'buffer.bin', Body: data }));
      assert.equal(put.ETag, md5(data));
      // Stream body with default checksums: aws-chunked framing with a CRC32 trailer (wire.md §8.3).
      const chunked = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'chunked.bin', Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length }));
      assert.equal(chunked.ETag, md5(data));
      assert.ok(chunked.ChecksumCRC32, 'the CRC32 of the trailer is echoed');
      // Stream body without checksums: a plain body with UNSIGNED-PAYLOAD.
      await plain.send(new PutObjectCommand({ Bucket: 'objects', Key: 'plain.bin', Body: Readable.from([data]), ContentLength: data.length }));

      for (const key of ['buffer.bin', 'chunked.bin', 'plain.bin']) {
        const got = await read(s3, 'objects', key);
        assert.equal(got.length, data.length, key);
        assert.ok(got.equals(data), key);
        const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: key }));
        assert.equal(head.ContentLength, data.length);
        assert.equal(head.ETag, md5(data));
      }
    });

    it('streams a large upload and download', async () => {
      const big = bytes(12 * 1024 * 1024, 3);
      async function* pieces() {
        for (let i = 0; i < big.length; i += 1024 * 1024) yield big.subarray(i, i + 1024 * 1024);
      }
      await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'big/twelve.bin', Body: Readable.from(pieces()), ContentLength: big.length }));
      const out = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'big/twelve.bin' }));
      const hash = createHash('sha256');
      let size = 0;
      for await (const c of out.Body as Readable) {
        hash.update(c as Buffer);
        size += (c as Buffer).length;
      }
      assert.equal(size, big.length);
      assert.equal(hash.digest('hex'), createHash('sha256').update(big).digest('hex'));
    });

    it('keeps content type, user metadata and content headers, and answers HeadObject', async () => {
      await s3.send(new PutObjectCommand({
        Bucket: 'objects', Key: 'dir/meta.json', Body: '{"a":1}', ContentType: 'application/json', Metadata: { owner: 'fw-team', build: '42' },
        CacheControl: 'no-cache', ContentDisposition: 'attachment; filename="meta.json"',
      }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/meta.json' }));
      assert.equal(await got.Body!.transformToString(), '{"a":1}');
      assert.equal(got.ContentType, 'application/json');
      assert.deepEqual(got.Metadata, { owner: 'fw-team', build: '42' });
      assert.equal(got.CacheControl, 'no-cache');
      assert.equal(got.ContentDisposition, 'attachment; filename="meta.json"');
      assert.equal(got.AcceptRanges, 'bytes');
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/meta.json' }));
      assert.equal(head.ContentLength, 7);
      assert.ok(head.LastModified instanceof Date);
      assert.equal(head.VersionId, undefined, 'no version id in a bucket that never had versioning');
    });

    it('serves byte ranges as 206 and refuses unsatisfiable ones with 416 InvalidRange', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'range.txt', Body: '0123456789' }));
      const cases: [string, string, string][] = [
        ['bytes=2-5', '2345', 'bytes 2-5/10'],
        ['bytes=7-', '789', 'bytes 7-9/10'],
        ['bytes=-3', '789', 'bytes 7-9/10'],
        ['bytes=8-100', '89', 'bytes 8-9/10'],
      ];
      for (const [range, body, contentRange] of cases) {
        const out = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'range.txt', Range: range }));
        assert.equal(out.$metadata.httpStatusCode, 206, range);
        assert.equal(await out.Body!.transformToString(), body, range);
        assert.equal(out.ContentRange, contentRange, range);
        assert.equal(out.ContentLength, body.length, range);
      }
      await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'range.txt', Range: 'bytes=10-12' })), 'InvalidRange', { status: 416 });
      // What S3 cannot parse it ignores: the whole object, 200.
      const whole = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'range.txt', Range: 'bytes=5-2' }));
      assert.equal(whole.$metadata.httpStatusCode, 200);
      assert.equal(await whole.Body!.transformToString(), '0123456789');
    });

    it('lists with prefix, delimiter, max-keys and continuation tokens (V2) and markers (V1)', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
      const keys = ['a.txt', 'docs/one.md', 'docs/two.md', 'docs/sub/deep.md', 'img/x.png', 'img/y.png', 'z.txt', 'ü-nicode.txt', 'space key.txt'];
      for (const k of keys) await plain.send(new PutObjectCommand({ Bucket: 'listing', Key: k, Body: k }));

      const all = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
      // UTF-8 byte order, as S3 lists: 'space key' < 'z.txt' < 'ü-nicode' (0xC3 sorts after ASCII).
      assert.deepEqual(all.Contents?.map((c) => c.Key), ['a.txt', 'docs/one.md', 'docs/sub/deep.md', 'docs/two.md', 'img/x.png', 'img/y.png', 'space key.txt', 'z.txt', 'ü-nicode.txt']);
      assert.equal(all.KeyCount, 9);
      assert.equal(all.Contents![0].Size, 5);
      assert.equal(all.Contents![0].ETag, md5('a.txt'));

      const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
      assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['docs/', 'img/']);
      assert.deepEqual(top.Contents?.map((c) => c.Key), ['a.txt', 'space key.txt', 'z.txt', 'ü-nicode.txt']);

      const docs = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'docs/', Delimiter: '/' }));
      assert.deepEqual(docs.Contents?.map((c) => c.Key), ['docs/one.md', 'docs/two.md']);
      assert.deepEqual(docs.CommonPrefixes?.map((p) => p.Prefix), ['docs/sub/']);

      // Page by 2 with a delimiter: objects and common prefixes count alike, and no entry repeats.
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
        pages++;
        assert.ok((page.KeyCount ?? 0) <= 2);
        seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      assert.equal(pages, 3);
      assert.deepEqual(seen.sort(), ['a.txt', 'docs/', 'img/', 'space key.txt', 'z.txt', 'ü-nicode.txt'].sort());

      const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'img/x.png' }));
      assert.deepEqual(after.Contents?.map((c) => c.Key), ['img/y.png', 'space key.txt', 'z.txt', 'ü-nicode.txt']);

      const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', MaxKeys: 3 }));
      assert.equal(v1.IsTruncated, true);
      assert.deepEqual(v1.Contents?.map((c) => c.Key), ['a.txt', 'docs/one.md', 'docs/sub/deep.md']);
      const v1next = await s3.send(new ListObjectsCommand({ Bucket: 'listing', MaxKeys: 3, Marker: v1.NextMarker }));
      assert.deepEqual(v1next.Contents?.map((c) => c.Key), ['docs/two.md', 'img/x.png', 'img/y.png']);

      await expectAwsError(s3.send(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'not-a-token' })), 'InvalidArgument', { status: 400 });
      await expectAwsError(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })), 'NoSuchBucket', { status: 404 });
    });

    it('copies objects and deletes several at once', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'copy/src', Body: 'copied bytes', ContentType: 'text/plain', Metadata: { a: '1' } }));
      await s3.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'copy/dst', CopySource: 'objects/copy/src' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'copy/dst' }));
      assert.equal(await got.Body!.transformToString(), 'copied bytes');
      assert.equal(got.ContentType, 'text/plain');
      assert.deepEqual(got.Metadata, { a: '1' });

      const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Objects: [{ Key: 'copy/src' }, { Key: 'copy/dst' }, { Key: 'copy/never-there' }] } }));
      assert.deepEqual(del.Deleted?.map((d) => d.Key).sort(), ['copy/dst', 'copy/never-there', 'copy/src']);
      const left = await s3.send(new ListObjectsV2Command({ Bucket: 'objects', Prefix: 'copy/' }));
      assert.equal(left.KeyCount, 0);
    });

    it('answers S3 XML errors: NoSuchBucket, NoSuchKey, signature and key failures', async () => {
      const noBucket = await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'nope-bucket', Key: 'k' })), 'NoSuchBucket', { status: 404, message: 'The specified bucket does not exist' });
      assert.equal(noBucket.BucketName, 'nope-bucket');
      const noKey = await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'missing/key' })), 'NoSuchKey', { status: 404, message: 'The specified key does not exist.' });
      assert.equal(noKey.Key, 'missing/key');
      await expectAwsError(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'missing/key' })), 'NotFound', { status: 404 });
      // An upload refused before its body is read (aws-chunked stream and plain).
      await expectAwsError(s3.send(new PutObjectCommand({ Bucket: 'nope-bucket', Key: 'k', Body: Readable.from([bytes(50_000)]), ContentLength: 50_000 })), 'NoSuchBucket', { status: 404 });
      await expectAwsError(plain.send(new PutObjectCommand({ Bucket: 'nope-bucket', Key: 'k', Body: bytes(50_000) })), 'NoSuchBucket', { status: 404 });

      const wrongSecret = s3Client(t, 'WHEN_SUPPORTED', { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' });
      const unknownKey = s3Client(t, 'WHEN_SUPPORTED', { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' });
      try {
        await expectAwsError(wrongSecret.send(new GetObjectCommand({ Bucket: 'objects', Key: 'range.txt' })), 'SignatureDoesNotMatch', { status: 403 });
        await expectAwsError(wrongSecret.send(new PutObjectCommand({ Bucket: 'objects', Key: 'forged', Body: 'x' })), 'SignatureDoesNotMatch', { status: 403 });
        await expectAwsError(unknownKey.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', { status: 403 });
      } finally {
        wrongSecret.destroy();
        unknownKey.destroy();
      }
      await expectAwsError(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'forged' })), 'NotFound');

      // The raw document: S3's <Error> shape with a request id, as application/xml.
      const raw = await sendSigned(t.url, { method: 'GET', path: '/objects/missing%20key' }, { service: 's3' });
      assert.equal(raw.status, 404);
      assert.match(String(raw.headers['content-type']), /application\/xml/);
      assert.match(raw.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>missing key<\/Key><RequestId>[^<]+<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
      assert.equal(raw.headers['x-amz-request-id'], /<RequestId>([^<]+)</.exec(raw.text)![1]);

      // A tampered path fails the signature; query authentication without its parameters is malformed.
      const tampered = await sendSigned(t.url, { method: 'GET', path: '/objects/range.txt' }, { service: 's3', signedPath: '/objects/other.txt' });
      assert.equal(tampered.status, 403);
      assert.match(tampered.text, /<Code>SignatureDoesNotMatch<\/Code>/);
      const unsigned = await sendRaw(t.url, { method: 'GET', path: '/objects/range.txt', query: { 'X-Amz-Credential': `${TEST_CREDENTIALS.accessKeyId}/20260101/us-east-1/s3/aws4_request` } });
      assert.equal(unsigned.status, 400);
      assert.match(unsigned.text, /<Code>AuthorizationQueryParametersError<\/Code>/);
    });

    it('checks payload digests while streaming and keeps nothing that does not match', async () => {
      // x-amz-content-sha256 names a digest of other bytes than the ones sent.
      const sha = await sendSigned(
        t.url,
        { method: 'PUT', path: '/objects/digest/sha', body: 'the real body', headers: { 'content-type': 'text/plain' } },
        { service: 's3', signedBody: 'a different body' },
      );
      assert.equal(sha.status, 400);
      assert.match(sha.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);

      const crc = await sendSigned(
        t.url,
        { method: 'PUT', path: '/objects/digest/crc', body: 'hello', headers: { 'content-type': 'text/plain', 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-sdk-checksum-algorithm': 'CRC32' } },
        { service: 's3' },
      );
      assert.equal(crc.status, 400);
      assert.match(crc.text, /<Code>BadDigest<\/Code><Message>The CRC32 you specified did not match the calculated checksum.<\/Message>/);

      const contentMd5 = await sendSigned(
        t.url,
        { method: 'PUT', path: '/objects/digest/md5', body: 'hello', headers: { 'content-type': 'text/plain', 'content-md5': createHash('md5').update('other').digest('base64') } },
        { service: 's3' },
      );
      assert.equal(contentMd5.status, 400);
      assert.match(contentMd5.text, /<Code>BadDigest<\/Code>/);

      // aws-chunked with a wrong trailer checksum.
      const framed = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
      const trailer = await sendSigned(
        t.url,
        {
          method: 'PUT', path: '/objects/digest/trailer', body: framed,
          headers: { 'content-type': 'text/plain', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
        },
        { service: 's3' },
      );
      assert.equal(trailer.status, 400);
      assert.match(trailer.text, /<Code>BadDigest<\/Code>/);

      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'objects', Prefix: 'digest/' }));
      assert.equal(listed.KeyCount, 0, 'no refused upload became visible');
      const good = await sendSigned(
        t.url,
        {
          method: 'PUT', path: '/objects/digest/trailer', body: framed.replace('AAAAAA==', 'NhCmhg=='),
          headers: { 'content-type': 'text/plain', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
        },
        { service: 's3' },
      );
      assert.equal(good.status, 200, good.text);
      assert.equal((await read(s3, 'objects', 'digest/trailer')).toString(), 'hello');
    });

    it('accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploads whose chunk signatures chain, and refuses broken chains', async () => {
      const data = bytes(20_000, 11);
      const chunks = [data.subarray(0, 9000), data.subarray(9000), Buffer.alloc(0)];
      const framedLength = chunks.reduce((n, c) => n + c.length.toString(16).length + ';chunk-signature='.length + 64 + 2 + c.length + 2, 0);
      const url = new URL(t.url);
      const amzDate = new Date();
      const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
      const upload = async (key: string, breakChain: boolean) => {
        const signed = await signer.sign(
          {
            method: 'PUT', protocol: 'http:', hostname: url.host, path: `/objects/${key}`, query: {},
            headers: {
              host: url.host, 'content-encoding': 'aws-chunked', 'content-length': String(framedLength), 'x-amz-decoded-content-length': String(data.length),
              'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
            },
          },
          { signingDate: amzDate },
        );
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(signed.headers)) headers[k] = String(v);
        let previous = /Signature=([0-9a-f]{64})/.exec(headers.authorization)![1];
        const scope = `${headers['x-amz-date'].slice(0, 8)}/us-east-1/s3/aws4_request`;
        const framed: Buffer[] = [];
        for (const [i, c] of chunks.entries()) {
          const sts = ['AWS4-HMAC-SHA256-PAYLOAD', headers['x-amz-date'], scope, previous, createHash('sha256').update('').digest('hex'), createHash('sha256').update(c).digest('hex')].join('\n');
          previous = await signer.sign(sts, { signingDate: amzDate });
          const sig = breakChain && i === 1 ? 'f'.repeat(64) : previous;
          framed.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c, Buffer.from('\r\n'));
        }
        return sendRaw(t.url, { method: 'PUT', path: `/objects/${key}`, body: Buffer.concat(framed) }, headers);
      };
      const ok = await upload('signed-chunks/good.bin', false);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers.etag, md5(data));
      assert.ok((await read(s3, 'objects', 'signed-chunks/good.bin')).equals(data));
      const bad = await upload('signed-chunks/bad.bin', true);
      assert.equal(bad.status, 403);
      assert.match(bad.text, /<Code>SignatureDoesNotMatch<\/Code>/);
      await expectAwsError(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'signed-chunks/bad.bin' })), 'NotFound');
    });

    it('answers NotImplemented for S3 features outside the subset', async () => {
      const res = await sendSigned(t.url, { method: 'GET', path: '/objects', query: { policy: '' } }, { service: 's3' });
      assert.equal(res.status, 501);
      assert.match(res.text, /<Code>NotImplemented<\/Code>/);
    });
  });
}
