import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.js';
import {
  checkPresignedPlaceholders,
  parseS3ObjectUrl,
  resolveDocumentPlaceholders,
  resolveParameterPlaceholders,
  resolvePresignedPlaceholders,
  validateJobDocument,
  type DestinationPackageVersion,
  type S3Location,
} from '../../src/domain/jobs/job-document.js';
import { scanPlaceholders } from '../../src/domain/jobs/placeholders.js';

const refused = (fn: () => unknown, message: string | RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.errorName, 'InvalidRequestException');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });

const refusedAsync = async (p: Promise<unknown>, message: string) =>
  assert.rejects(p, (e: unknown) => e instanceof DomainError && e.errorName === 'InvalidRequestException' && e.message === message);

const TEST_PACKAGE: DestinationPackageVersion = {
  packageName: 'TestPackage',
  versionName: '1.0.2',
  requestedVersionName: '$default',
  attributes: { location: 's3://bucket/fw.bin', signature: 'abc"def', 'key:with:colons': 'yes' },
  artifact: { s3Location: { bucket: 'artifacts', key: 'fw/1.0.2.bin', version: 'v7' } },
};
const OTHER: DestinationPackageVersion = { packageName: 'Other', versionName: '2.0', requestedVersionName: '2.0', attributes: {} };
const doc = (o: unknown) => JSON.stringify(o);

describe('validateJobDocument', () => {
  it('accepts JSON objects with well-formed placeholders', () => {
    validateJobDocument('{}');
    validateJobDocument(doc({ a: '${aws:iot:parameter:x}', b: ['${aws:iot:package:p:version:1:attributes:k}'], c: '${aws:iot:package:p:version:$default:attributes}' }));
    validateJobDocument(doc({ up: '${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/b/logs/${thingName}/${jobId}.log}' }));
    validateJobDocument(doc({ shell: 'echo ${HOME}' }));
    validateJobDocument('x'.repeat(0) + `{"k":"${'y'.repeat(32760)}"}`);
  });

  it('refuses what is not a UTF-8 JSON object of at most 32768 chars', () => {
    refused(() => validateJobDocument('not json'), 'The job document must be a valid JSON object.');
    refused(() => validateJobDocument('[1,2]'), 'The job document must be a valid JSON object.');
    refused(() => validateJobDocument('"str"'), 'The job document must be a valid JSON object.');
    refused(() => validateJobDocument('null'), 'The job document must be a valid JSON object.');
    refused(() => validateJobDocument('{"a":"\ud800"}'), 'The job document must be valid UTF-8.');
    refused(() => validateJobDocument(`{"k":"${'y'.repeat(32763)}"}`), /^1 validation error detected: Value '.*' at 'document' failed to satisfy constraint: Member must have length less than or equal to 32768$/);
  });

  it('refuses unterminated, nested and $null placeholders', () => {
    refused(() => validateJobDocument('{"a":"${aws:iot:parameter:x"}'), 'One or more parameters or placeholders are not terminated.');
    refused(() => validateJobDocument('{"a":"${aws:iot:parameter:x", "b": "}"}'), 'One or more parameters or placeholders are not terminated.');
    refused(() => validateJobDocument('{"a":"cost ${"}'), 'One or more parameters or placeholders are not terminated.');
    refused(
      () => validateJobDocument(doc({ a: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/${aws:iot:package:p:version:1:artifact:s3-presigned-url}}' })),
      '${aws:iot:package:[...]:artifact:s3-presigned-url} cannot be nested inside another placeholder.',
    );
    refused(
      () => validateJobDocument(doc({ a: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/${aws:iot:parameter:key}}' })),
      '${aws:iot:parameter[...]} should not be the second layer pattern.',
    );
    refused(() => validateJobDocument(doc({ a: '${aws:iot:package:p:version:$null:attributes:k}' })), '$null is not allowed to be referenced as a package version in job documents.');
    refused(() => validateJobDocument(doc({ a: '${aws:iot:package:p:version::attributes}' })), 'Empty package name and version name have to be used in pair.');
    refused(() => validateJobDocument(doc({ a: '${aws:iot:package::version:1:attributes:k}' })), 'Empty package name and version name have to be used in pair.');
  });

  it('requires the all-attributes placeholder to be a whole JSON value', () => {
    const message =
      'The package version attribute placeholder for all attributes has to be a json value by itself and not appended with other strings or nested with other placeholders.';
    refused(() => validateJobDocument(doc({ a: 'x${aws:iot:package:p:version:1:attributes}' })), message);
    refused(() => validateJobDocument(doc({ a: '${aws:iot:package:p:version:1:attributes} ' })), message);
    refused(() => validateJobDocument(doc({ '${aws:iot:package:p:version:1:attributes}': 1 })), message);
    refused(() => validateJobDocument(doc({ a: '${aws:iot:s3-presigned-url:${aws:iot:package:p:version:1:attributes}}' })), message);
    validateJobDocument('{"a" : "${aws:iot:package:p:version:1:attributes}" , "b": ["${aws:iot:package::version::attributes}"]}');
  });
});

describe('resolveDocumentPlaceholders', () => {
  const ctx = { destinationPackageVersions: [TEST_PACKAGE] };

  it('substitutes documentParameters as JSON string content, leaving unknown names', () => {
    const raw = doc({ cmd: '${aws:iot:parameter:command}', user: '${aws:iot:parameter:runAsUser}', other: '${aws:iot:parameter:unknown}' });
    const out = resolveDocumentPlaceholders(raw, { documentParameters: { command: 'echo "hi" \\ there', runAsUser: '' }, destinationPackageVersions: [] });
    assert.deepEqual(JSON.parse(out), { cmd: 'echo "hi" \\ there', user: '', other: '${aws:iot:parameter:unknown}' });
  });

  it('substitutes one attribute inside a string and all attributes as an object', () => {
    const raw = doc({
      url: 'from ${aws:iot:package:TestPackage:version:$default:attributes:location} now',
      sig: '${aws:iot:package:TestPackage:version:1.0.2:attributes:signature}',
      colons: '${aws:iot:package:TestPackage:version:1.0.2:attributes:key:with:colons}',
      attributes: '${aws:iot:package:TestPackage:version:$default:attributes}',
      again: ['${aws:iot:package::version::attributes}', '${aws:iot:package::version::attributes:location}'],
    });
    assert.deepEqual(JSON.parse(resolveDocumentPlaceholders(raw, ctx)), {
      url: 'from s3://bucket/fw.bin now',
      sig: 'abc"def',
      colons: 'yes',
      attributes: TEST_PACKAGE.attributes,
      again: [TEST_PACKAGE.attributes, 's3://bucket/fw.bin'],
    });
  });

  it('leaves presigned placeholders but checks their package is a destination', () => {
    const raw = doc({
      a: '${aws:iot:package:TestPackage:version:$default:artifact:s3-presigned-url}',
      b: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/bucket/key}',
      c: '${aws:iot:package:TestPackage:version:1.0.2:artifact-location:s3-presigned-url}',
    });
    assert.equal(resolveDocumentPlaceholders(raw, ctx), raw);
    refused(
      () => resolveDocumentPlaceholders(doc({ a: '${aws:iot:package:TestPackage:version:9.9:artifact:s3-presigned-url}' }), ctx),
      'Package TestPackage version 9.9 is referenced in the job document but is not in destinationPackageVersions; make both references match.',
    );
  });

  it('can substitute only the parameters', () => {
    const raw = doc({ a: '${aws:iot:parameter:x}', b: '${aws:iot:package:P:version:1:attributes}', c: '${aws:iot:parameter:y}' });
    assert.deepEqual(JSON.parse(resolveParameterPlaceholders(raw, { x: 'line\nbreak' })), {
      a: 'line\nbreak',
      b: '${aws:iot:package:P:version:1:attributes}',
      c: '${aws:iot:parameter:y}',
    });
    assert.equal(resolveParameterPlaceholders('{"a":1}', { x: 'y' }), '{"a":1}');
  });

  it('returns a document without placeholders unchanged', () => {
    const raw = '{ "operation" : "reboot" }';
    assert.equal(resolveDocumentPlaceholders(raw, { destinationPackageVersions: [] }), raw);
  });

  it('answers the package errors AWS documents', () => {
    refused(
      () => resolveDocumentPlaceholders(doc({ a: '${aws:iot:package::version::attributes:location}' }), { destinationPackageVersions: [TEST_PACKAGE, OTHER] }),
      'Cannot resolve empty package name and version name given multiple elements in destination package versions.',
    );
    refused(
      () => resolveDocumentPlaceholders(doc({ a: '${aws:iot:package::version::attributes}' }), { destinationPackageVersions: [] }),
      'Cannot resolve empty package name and version name without an element in destination package versions.',
    );
    refused(
      () => resolveDocumentPlaceholders(doc({ a: '${aws:iot:package:Other:version:1.0:attributes:k}' }), { destinationPackageVersions: [TEST_PACKAGE, OTHER] }),
      'Package Other version 1.0 is referenced in the job document but is not in destinationPackageVersions; make both references match.',
    );
    refused(
      () => resolveDocumentPlaceholders(doc({ a: '${aws:iot:package:TestPackage:version:1.0.2:attributes:missing}' }), ctx),
      'Package TestPackage version 1.0.2 does not have an attribute missing.',
    );
    refused(() => resolveDocumentPlaceholders(doc({ a: '${aws:iot:package:TestPackage:version:$null:attributes}' }), ctx), '$null is not allowed to be referenced as a package version in job documents.');
    refused(() => resolveDocumentPlaceholders('{"a":"${aws:iot:parameter:x"}', ctx), 'One or more parameters or placeholders are not terminated.');
  });
});

describe('presigned placeholders', () => {
  const signed: [S3Location, number][] = [];
  const presign = async (loc: S3Location, expiresInSec: number) => {
    signed.push([loc, expiresInSec]);
    return `http://127.0.0.1:9/${loc.bucket}/${loc.key}?v=${loc.version ?? ''}&X-Amz-Expires=${expiresInSec}&q="x"`;
  };

  it('replaces v1, v2 and package artifact placeholders with presigned URLs', async () => {
    signed.length = 0;
    const raw = doc({
      v1: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/bucket/dir/file name.bin}',
      v2: '${aws:iot:s3-presigned-url-v2:https://bucket.s3.us-west-2.amazonaws.com/dir/a%2Bb%20c.bin%3FversionId%3Dver%2B1}',
      art: '${aws:iot:package:TestPackage:version:$default:artifact:s3-presigned-url}',
      art2: '${aws:iot:package::version::artifact-location:s3-presigned-url}',
      keep: '${aws:iot:parameter:x}',
    });
    const out = JSON.parse(
      await resolvePresignedPlaceholders(raw, { presignedUrlConfig: { roleArn: 'arn:aws:iam::1:role/r', expiresInSec: 600 }, destinationPackageVersions: [TEST_PACKAGE], presign }),
    );
    assert.equal(out.v1, 'http://127.0.0.1:9/bucket/dir/file name.bin?v=&X-Amz-Expires=600&q="x"');
    assert.equal(out.v2, 'http://127.0.0.1:9/bucket/dir/a+b c.bin?v=ver+1&X-Amz-Expires=600&q="x"');
    assert.equal(out.art, 'http://127.0.0.1:9/artifacts/fw/1.0.2.bin?v=v7&X-Amz-Expires=600&q="x"');
    assert.equal(out.art2, out.art);
    assert.equal(out.keep, '${aws:iot:parameter:x}');
    // The same object is signed once per read.
    assert.equal(signed.length, 3);
  });

  it('uses 3600 seconds by default and leaves documents without placeholders alone', async () => {
    signed.length = 0;
    const raw = doc({ u: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/k}' });
    await resolvePresignedPlaceholders(raw, { presignedUrlConfig: { roleArn: 'arn:aws:iam::1:role/r' }, destinationPackageVersions: [], presign });
    assert.equal(signed[0][1], 3600);
    const plain = '{"a":"${aws:iot:parameter:x}"}';
    assert.equal(await resolvePresignedPlaceholders(plain, { destinationPackageVersions: [], presign }), plain);
  });

  it('refuses without a role ARN or an artifact', async () => {
    const v1 = doc({ u: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/k}' });
    await refusedAsync(
      resolvePresignedPlaceholders(v1, { presignedUrlConfig: { expiresInSec: 60 }, destinationPackageVersions: [], presign }),
      'presignedUrlConfig role ARN is required to generate an S3 presigned url in job document.',
    );
    refused(() => checkPresignedPlaceholders(v1, { destinationPackageVersions: [] }), 'presignedUrlConfig role ARN is required to generate an S3 presigned url in job document.');
    const art = doc({ u: '${aws:iot:package:TestPackage:version:$default:artifact:s3-presigned-url}' });
    refused(
      () => checkPresignedPlaceholders(art, { destinationPackageVersions: [TEST_PACKAGE] }),
      'presignedUrlConfig role ARN is required to generate an S3 presigned url in job document for package TestPackage version 1.0.2 artifact.',
    );
    const noArtifact = doc({ u: '${aws:iot:package:Other:version:2.0:artifact:s3-presigned-url}' });
    await refusedAsync(
      resolvePresignedPlaceholders(noArtifact, { presignedUrlConfig: { roleArn: 'arn:aws:iam::1:role/r' }, destinationPackageVersions: [OTHER], presign }),
      'Package Other version 2.0 does not have an associated artifact to generate an S3 presigned url.',
    );
    refused(
      () => checkPresignedPlaceholders(doc({ u: '${aws:iot:s3-presigned-url:ftp://nowhere}' }), { presignedUrlConfig: { roleArn: 'r' }, destinationPackageVersions: [] }),
      'The S3 URL ftp://nowhere in the presigned URL placeholder is not a valid S3 object URL.',
    );
    assert.doesNotThrow(() => checkPresignedPlaceholders(art, { presignedUrlConfig: { roleArn: 'r' }, destinationPackageVersions: [TEST_PACKAGE] }));
  });
});

describe('presigned upload placeholders', () => {
  const ROLE = { roleArn: 'arn:aws:iam::1:role/r', expiresInSec: 900 };
  const EXECUTION = { thingName: 'dev-7', jobId: 'collect-logs', executionNumber: 3 };
  const calls: [S3Location, number, string][] = [];
  const presign = async (loc: S3Location, expiresInSec: number, method: 'GET' | 'PUT') => {
    calls.push([loc, expiresInSec, method]);
    return `http://127.0.0.1:9/${loc.bucket}/${loc.key}?m=${method}`;
  };

  it('presigns a PUT for the execution\'s own key, local placeholders filled in', async () => {
    calls.length = 0;
    const raw = doc({
      up: '${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/uploads/logs/${thingName}/${jobId}-${executionNumber}/${thingName}.tgz}',
      down: '${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/uploads/tool.bin}',
      text: 'device ${thingName} keeps its own text',
    });
    validateJobDocument(raw);
    const out = JSON.parse(await resolvePresignedPlaceholders(raw, { presignedUrlConfig: ROLE, destinationPackageVersions: [], presign, execution: EXECUTION }));
    assert.equal(out.up, 'http://127.0.0.1:9/uploads/logs/dev-7/collect-logs-3/dev-7.tgz?m=PUT');
    assert.equal(out.down, 'http://127.0.0.1:9/uploads/tool.bin?m=GET');
    assert.equal(out.text, 'device ${thingName} keeps its own text');
    assert.deepEqual(calls.map(([, seconds, method]) => [seconds, method]), [[900, 'PUT'], [900, 'GET']]);
  });

  it('makes up a per-execution key when the URL names only a bucket', async () => {
    for (const url of ['https://s3.us-east-1.amazonaws.com/uploads', 'https://s3.us-east-1.amazonaws.com/uploads/', 'https://uploads.s3.us-east-1.amazonaws.com']) {
      const out = JSON.parse(await resolvePresignedPlaceholders(doc({ up: `\${aws:iot:s3-presigned-url-upload:${url}}` }), { presignedUrlConfig: ROLE, destinationPackageVersions: [], presign, execution: EXECUTION }));
      assert.equal(out.up, 'http://127.0.0.1:9/uploads/collect-logs/dev-7/3?m=PUT', url);
    }
  });

  it('refuses undefined, misplaced and repeated local placeholders as AWS does', () => {
    refused(
      () => validateJobDocument(doc({ up: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/b/${deviceId}.log}' })),
      'Undefined placeholder, ${deviceId}, inside of presign url upload parameter',
    );
    refused(
      () => validateJobDocument(doc({ down: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/${thingName}.bin}' })),
      'Local placeholder, ${thingName}, is only valid inside of presign url upload',
    );
    refused(
      () => validateJobDocument(doc({ down: '${aws:iot:s3-presigned-url-v2:https://s3.amazonaws.com/b/${jobId}.bin}' })),
      'Local placeholder, ${jobId}, is only valid inside of presign url upload',
    );
    refused(
      () => validateJobDocument(doc({ up: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/b/${jobId}/${jobId}/${jobId}}' })),
      'The local placeholder ${jobId} can be used at most 2 times in a presign url upload parameter.',
    );
    // Twice in each of two upload URLs is within the limit.
    validateJobDocument(doc({
      a: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/b/${jobId}/${jobId}}',
      b: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/b/${jobId}/${jobId}.2}',
    }));
    refused(
      () => validateJobDocument(doc({ up: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/b/${aws:iot:parameter:p}}' })),
      '${aws:iot:parameter[...]} should not be the second layer pattern.',
    );
  });

  it('needs a role ARN, a valid URL and no local placeholder in the bucket', () => {
    const up = doc({ up: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/b/${thingName}.log}' });
    refused(() => checkPresignedPlaceholders(up, { destinationPackageVersions: [] }), 'presignedUrlConfig role ARN is required to generate an S3 presigned url in job document.');
    assert.doesNotThrow(() => checkPresignedPlaceholders(up, { presignedUrlConfig: ROLE, destinationPackageVersions: [] }));
    refused(
      () => checkPresignedPlaceholders(doc({ up: '${aws:iot:s3-presigned-url-upload:https://s3.amazonaws.com/logs-${thingName}/x}' }), { presignedUrlConfig: ROLE, destinationPackageVersions: [] }),
      'The S3 bucket name of the presign url upload parameter https://s3.amazonaws.com/logs-${thingName}/x cannot contain a local placeholder: put ${thingName}, ${jobId} and ${executionNumber} in the key.',
    );
    refused(
      () => checkPresignedPlaceholders(doc({ up: '${aws:iot:s3-presigned-url-upload:}' }), { presignedUrlConfig: ROLE, destinationPackageVersions: [] }),
      'The presign url upload parameter needs an S3 URL that names at least a bucket.',
    );
  });
});

describe('parseS3ObjectUrl', () => {
  it('reads path-style and virtual-hosted URLs', () => {
    assert.deepEqual(parseS3ObjectUrl('https://s3.amazonaws.com/bucket/a/b.bin', false), { bucket: 'bucket', key: 'a/b.bin' });
    assert.deepEqual(parseS3ObjectUrl('https://s3.eu-west-1.amazonaws.com/bucket/a/b.bin', true), { bucket: 'bucket', key: 'a/b.bin' });
    assert.deepEqual(parseS3ObjectUrl('https://s3-eu-west-1.amazonaws.com/bucket/k', true), { bucket: 'bucket', key: 'k' });
    assert.deepEqual(parseS3ObjectUrl('https://my.bucket.s3.us-east-1.amazonaws.com/k%20x', true), { bucket: 'my.bucket', key: 'k x' });
    assert.deepEqual(parseS3ObjectUrl('https://bucket.s3.amazonaws.com/k', false), { bucket: 'bucket', key: 'k' });
    assert.deepEqual(parseS3ObjectUrl('http://127.0.0.1:4566/bucket/k%2F1', true), { bucket: 'bucket', key: 'k/1' });
    assert.deepEqual(parseS3ObjectUrl('https://s3.amazonaws.com/b/k%3FversionId%3Dabc', true), { bucket: 'b', key: 'k', version: 'abc' });
    // v1 keys are taken literally.
    assert.deepEqual(parseS3ObjectUrl('https://s3.amazonaws.com/b/k%20x', false), { bucket: 'b', key: 'k%20x' });
  });

  it('refuses URLs that name no object', () => {
    for (const url of ['https://s3.amazonaws.com/bucket', 'https://s3.amazonaws.com/bucket/', 'https://bucket.s3.amazonaws.com/', 'not a url', 'https://s3.amazonaws.com/b/%E0%A4%A', 's3://b/k']) {
      assert.equal(parseS3ObjectUrl(url, true), undefined, url);
    }
  });
});

describe('scanPlaceholders', () => {
  it('tracks nesting and ignores escaped characters', () => {
    const { placeholders, unterminated } = scanPlaceholders('{"a":"${x:${y}} \\"${z}\\""}');
    assert.equal(unterminated, false);
    assert.deepEqual(
      placeholders.map((p) => [p.body, p.depth]),
      [['x:${y}', 0], ['y', 1], ['z', 0]],
    );
  });
});
