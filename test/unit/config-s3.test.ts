import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { parseDocumentSourceUrl } from '../../src/objects/job-document-objects.js';

describe('external S3 settings', () => {
  it('uses the embedded store unless an endpoint or a region is named', () => {
    assert.equal(resolveConfig({}, {}).s3, undefined);
    assert.deepEqual(resolveConfig({ s3Endpoint: 'http://127.0.0.1:9000', s3ForcePathStyle: true, s3AccessKeyId: 'AK', s3SecretAccessKey: 'SK' }, {}).s3, {
      endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'AK', secretAccessKey: 'SK', forcePathStyle: true,
    });
    assert.deepEqual(resolveConfig({}, { FLEETJOBS_S3_REGION: 'eu-west-1' }).s3, { region: 'eu-west-1', forcePathStyle: false });
    assert.deepEqual(
      resolveConfig({}, { FLEETJOBS_S3_ENDPOINT: 'https://s3.example.com', FLEETJOBS_S3_FORCE_PATH_STYLE: '1', FLEETJOBS_S3_ACCESS_KEY_ID: 'A', FLEETJOBS_S3_SECRET_ACCESS_KEY: 'S' }).s3,
      { endpoint: 'https://s3.example.com', region: 'us-east-1', accessKeyId: 'A', secretAccessKey: 'S', forcePathStyle: true },
    );
  });

  it('refuses settings that cannot work', () => {
    assert.throws(() => resolveConfig({ s3Endpoint: 'ftp://x' }, {}), ConfigError);
    assert.throws(() => resolveConfig({ s3Region: 'mars' }, {}), ConfigError);
    assert.throws(() => resolveConfig({ s3Endpoint: 'http://x', s3AccessKeyId: 'only-half' }, {}), ConfigError);
    assert.throws(() => resolveConfig({ s3AccessKeyId: 'a', s3SecretAccessKey: 'b' }, {}), ConfigError);
  });
});

describe('documentSource URLs', () => {
  it('names bucket, key and version in path-style, regional and virtual-hosted URLs', () => {
    assert.deepEqual(parseDocumentSourceUrl('https://s3.amazonaws.com/jobdocs/dir/install.json'), { bucket: 'jobdocs', key: 'dir/install.json' });
    assert.deepEqual(parseDocumentSourceUrl('https://s3.eu-west-1.amazonaws.com/jobdocs/a%20b.json?versionId=v9'), { bucket: 'jobdocs', key: 'a b.json', version: 'v9' });
    assert.deepEqual(parseDocumentSourceUrl('https://jobdocs.s3.us-east-1.amazonaws.com/install.json'), { bucket: 'jobdocs', key: 'install.json' });
    assert.deepEqual(parseDocumentSourceUrl('https://my.dotted.bucket.s3.amazonaws.com/k'), { bucket: 'my.dotted.bucket', key: 'k' });
    assert.deepEqual(parseDocumentSourceUrl('http://127.0.0.1:8080/jobdocs/k'), { bucket: 'jobdocs', key: 'k' });
    for (const bad of ['not a url', 'ftp://s3.amazonaws.com/b/k', 'https://s3.amazonaws.com/only-bucket', 'https://s3.amazonaws.com/b/%E0%A4%A']) {
      assert.equal(parseDocumentSourceUrl(bad), undefined, bad);
    }
  });
});
