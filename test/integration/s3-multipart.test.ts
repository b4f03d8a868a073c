import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { s3Client } from '../support/s3.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;

/** Multipart uploads of the embedded S3 subset through @aws-sdk/client-s3, including S3's refusals. */
for (const backend of await testBackends()) {
  describe(`embedded S3: multipart uploads (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    before(async () => {
      t = await startTestServer(backend);
      s3 = s3Client(t);
      await s3.send(new CreateBucketCommand({ Bucket: 'parts' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'parts', VersioningConfiguration: { Status: 'Enabled' } }));
    });
    after(async () => {
      s3?.destroy();
      await t?.close();
    });

    it('assembles the listed parts in order, with the multipart ETag and a version id', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'big.bin', ContentType: 'application/x-firmware', Metadata: { build: '7' } }));
      const p1 = Buffer.alloc(5 * MiB, 'a');
      const p2 = Buffer.from('the tail');
      // Parts may arrive out of order; part 2 is uploaded twice and the second one counts.
      await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'big.bin', UploadId, PartNumber: 2, Body: 'replaced' }));
      const e2 = (await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'big.bin', UploadId, PartNumber: 2, Body: p2 }))).ETag!;
      const e1 = (await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'big.bin', UploadId, PartNumber: 1, Body: p1 }))).ETag!;
      const done = await s3.send(new CompleteMultipartUploadCommand({
        Bucket: 'parts', Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] },
      }));
      const md5 = (b: Buffer) => createHash('md5').update(b).digest();
      assert.equal(done.ETag, `"${createHash('md5').update(Buffer.concat([md5(p1), md5(p2)])).digest('hex')}-2"`);
      assert.match(done.VersionId!, /^[A-Za-z0-9._]{32}$/);

      const got = await s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'big.bin' }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      assert.ok(body.equals(Buffer.concat([p1, p2])));
      assert.equal(got.ContentType, 'application/x-firmware');
      assert.deepEqual(got.Metadata, { build: '7' });
      assert.equal(got.VersionId, done.VersionId);
      // A completed upload is gone.
      await expectAwsError(s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'big.bin', UploadId, PartNumber: 3, Body: 'late' })), 'NoSuchUpload', { status: 404 });
    });

    it("refuses what S3 refuses: small parts, unknown parts or ETags, wrong order, unknown uploads", async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'bad.bin' }));
      const e1 = (await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'bad.bin', UploadId, PartNumber: 1, Body: 'too small' }))).ETag!;
      const e2 = (await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'bad.bin', UploadId, PartNumber: 2, Body: 'end' }))).ETag!;
      const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: 'parts', Key: 'bad.bin', UploadId, MultipartUpload: { Parts } }));
      await expectAwsError(complete([{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }]), 'EntityTooSmall', { status: 400 });
      await expectAwsError(complete([{ PartNumber: 2, ETag: e2 }, { PartNumber: 1, ETag: e1 }]), 'InvalidPartOrder', { status: 400 });
      await expectAwsError(complete([{ PartNumber: 3, ETag: e2 }]), 'InvalidPart', { status: 400 });
      await expectAwsError(complete([{ PartNumber: 2, ETag: e1 }]), 'InvalidPart', { status: 400 });
      // The last part alone may be small.
      await complete([{ PartNumber: 2, ETag: e2 }]);
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'bad.bin' }))).Body!.transformToString(), 'end');

      await expectAwsError(s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'bad.bin', UploadId: 'no-such-upload', PartNumber: 1, Body: 'x' })), 'NoSuchUpload', { status: 404 });
      await expectAwsError(s3.send(new CreateMultipartUploadCommand({ Bucket: 'no-such-parts', Key: 'k' })), 'NoSuchBucket', { status: 404 });
    });

    it('aborts an upload and forgets its parts', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'aborted.bin' }));
      const e1 = (await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'aborted.bin', UploadId, PartNumber: 1, Body: 'x' }))).ETag!;
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'parts', Key: 'aborted.bin', UploadId }));
      await expectAwsError(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: 'parts', Key: 'aborted.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }] } })),
        'NoSuchUpload', { status: 404 });
      await expectAwsError(s3.send(new AbortMultipartUploadCommand({ Bucket: 'parts', Key: 'aborted.bin', UploadId })), 'NoSuchUpload', { status: 404 });
      await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'aborted.bin' })), 'NoSuchKey');
    });
  });
}
