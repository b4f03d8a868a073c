import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { REGION, TEST_CREDENTIALS, type TestServer } from './server.js';

/**
 * An S3 client pointed at a test server's embedded S3 subset (path-style). By default it uses
 * the SDK's default checksums, so stream bodies go out aws-chunked with a CRC32 trailer;
 * `'WHEN_REQUIRED'` sends plain bodies (wire.md §8.3). The caller destroys it.
 */
export function s3Client(t: TestServer, checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' = 'WHEN_SUPPORTED', credentials = TEST_CREDENTIALS): S3Client {
  return new S3Client({
    endpoint: t.url,
    region: REGION,
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
  });
}

/** Creates a bucket (versioned when asked) and puts one object in it; returns the object's VersionId. */
export async function putTestObject(t: TestServer, bucket: string, key: string, body: string | Buffer, versioned = true): Promise<string | undefined> {
  const s3 = s3Client(t, 'WHEN_REQUIRED');
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return out.VersionId;
  } finally {
    s3.destroy();
  }
}

/** AWS's "not accessible" text for a missing artifact or SBOM object (packages.md §9.6). */
export const notAccessible = (what: 'Artifact' | 'SBOM', which: 'bucket' | 'key' | 'bucket/key/version') =>
  `${what} not accessible by the service. Please make sure the ${which} exists and S3 permission is granted.`;
