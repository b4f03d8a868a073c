import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { testBackends } from '../support/backends.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { s3Client } from '../support/s3.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

/** Versioned buckets of the embedded S3 subset: version ids, 'null' versions, delete markers, ListObjectVersions. */
for (const backend of await testBackends()) {
  describe(`embedded S3: versioning (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let s3: S3Client;
    before(async () => {
      t = await startTestServer(backend);
      s3 = s3Client(t);
    });
    after(async () => {
      s3?.destroy();
      await t?.close();
    });

    const text = async (key: string, bucket: string, versionId?: string) =>
      (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body!.transformToString();

    it('gives every write a version id, serves each version, and hides the key behind a delete marker', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'fw-bucket' }));
      assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'fw-bucket' }))).Status, undefined);
      // Written before versioning: the 'null' version.
      const before = await s3.send(new PutObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', Body: 'v0' }));
      assert.equal(before.VersionId, undefined);

      await s3.send(new PutBucketVersioningCommand({ Bucket: 'fw-bucket', VersioningConfiguration: { Status: 'Enabled' } }));
      assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'fw-bucket' }))).Status, 'Enabled');
      const one = await s3.send(new PutObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', Body: 'v1' }));
      const two = await s3.send(new PutObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', Body: 'v2' }));
      assert.match(one.VersionId!, /^[A-Za-z0-9._]{32}$/);
      assert.notEqual(one.VersionId, two.VersionId);

      assert.equal(await text('app.bin', 'fw-bucket'), 'v2');
      assert.equal(await text('app.bin', 'fw-bucket', one.VersionId), 'v1');
      assert.equal(await text('app.bin', 'fw-bucket', 'null'), 'v0');
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', VersionId: one.VersionId }));
      assert.equal(head.VersionId, one.VersionId);
      assert.equal(head.ContentLength, 2);

      const del = await s3.send(new DeleteObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin' }));
      assert.equal(del.DeleteMarker, true);
      assert.match(del.VersionId!, /^[A-Za-z0-9._]{32}$/);
      await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin' })), 'NoSuchKey', { status: 404 });
      const raw = await sendSigned(t.url, { method: 'GET', path: '/fw-bucket/app.bin' }, { service: 's3' });
      assert.equal(raw.status, 404);
      assert.equal(raw.headers['x-amz-delete-marker'], 'true');
      assert.equal(raw.headers['x-amz-version-id'], del.VersionId);
      // A delete marker hides the key from listings, not its versions from a direct read.
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'fw-bucket' }))).KeyCount, 0);
      assert.equal(await text('app.bin', 'fw-bucket', two.VersionId), 'v2');
      await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', VersionId: del.VersionId })), 'MethodNotAllowed', { status: 405 });
      await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', VersionId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })), 'NoSuchVersion', { status: 404 });

      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'fw-bucket' }));
      assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]), [[two.VersionId, false, 2], [one.VersionId, false, 2], ['null', false, 2]]);
      assert.deepEqual(versions.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest, d.Key]), [[del.VersionId, true, 'app.bin']]);

      // Removing the marker itself brings the newest version back.
      const undelete = await s3.send(new DeleteObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', VersionId: del.VersionId }));
      assert.equal(undelete.DeleteMarker, true);
      assert.equal(await text('app.bin', 'fw-bucket'), 'v2');
      // Removing the latest version for good makes the one before it latest.
      await s3.send(new DeleteObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', VersionId: two.VersionId }));
      assert.equal(await text('app.bin', 'fw-bucket'), 'v1');
      await expectAwsError(s3.send(new GetObjectCommand({ Bucket: 'fw-bucket', Key: 'app.bin', VersionId: two.VersionId })), 'NoSuchVersion');
      const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'fw-bucket', Prefix: 'app' }));
      assert.deepEqual(after.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[one.VersionId, true], ['null', false]]);
      assert.equal(after.DeleteMarkers, undefined);
    });

    it('overwrites the null version while versioning is suspended', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'susp' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Enabled' } }));
      const kept = await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'kept' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Suspended' } }));
      assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'susp' }))).Status, 'Suspended');
      const firstNull = await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'first null' }));
      assert.equal(firstNull.VersionId, 'null');
      await s3.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'second null' }));
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'susp' }));
      assert.deepEqual(listed.Versions?.map((v) => [v.VersionId, v.IsLatest]), [['null', true], [kept.VersionId, false]]);
      assert.equal(await text('k', 'susp'), 'second null');
      // A delete while suspended puts a 'null' delete marker in place of the null version.
      const del = await s3.send(new DeleteObjectCommand({ Bucket: 'susp', Key: 'k' }));
      assert.equal(del.VersionId, 'null');
      assert.equal(del.DeleteMarker, true);
      const afterDelete = await s3.send(new ListObjectVersionsCommand({ Bucket: 'susp' }));
      assert.deepEqual(afterDelete.DeleteMarkers?.map((d) => d.VersionId), ['null']);
      assert.deepEqual(afterDelete.Versions?.map((v) => v.VersionId), [kept.VersionId]);
    });

    it('pages ListObjectVersions with key and version-id markers', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'pages' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'pages', VersioningConfiguration: { Status: 'Enabled' } }));
      const expected: string[] = [];
      for (const key of ['a', 'b', 'c']) {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await s3.send(new PutObjectCommand({ Bucket: 'pages', Key: key, Body: `${key}${i}` }))).VersionId!);
        expected.push(...ids.reverse().map((id) => `${key}:${id}`));
      }
      const seen: string[] = [];
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      for (let page = 0; page < 10; page++) {
        const out = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
        seen.push(...(out.Versions ?? []).map((v) => `${v.Key}:${v.VersionId}`));
        if (!out.IsTruncated) break;
        keyMarker = out.NextKeyMarker;
        versionIdMarker = out.NextVersionIdMarker;
      }
      assert.deepEqual(seen, expected);
      const rest = await s3.send(new ListObjectVersionsCommand({ Bucket: 'pages', KeyMarker: 'b' }));
      assert.deepEqual(rest.Versions?.map((v) => v.Key), ['c', 'c', 'c']);
    });
  });
}
