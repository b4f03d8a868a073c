import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreatePackageCommand, CreatePackageVersionCommand, GetPackageCommand } from '@aws-sdk/client-iot';
import { awsCliSkipReason, cliEnv, runAwsCli, type AwsCliResult } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const cliSkip = awsCliSkipReason();

/**
 * The AWS CLI (v1, botocore) works against the server by changing only --endpoint-url. botocore
 * signs differently from the JS SDK (no x-amz-content-sha256, its own query encoding), so this is
 * also the signature check for Python clients. Each `aws` start costs about a second of CPU:
 * setup that is not about the CLI goes through the SDK.
 */
for (const backend of await testBackends()) {
  describe(`AWS CLI: package catalog (${backend.name})`, { skip: backend.skip ?? cliSkip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    const aws = (...args: string[]) => runAwsCli(t.url, ['iot', ...args]);
    function ok(res: AwsCliResult): Record<string, unknown> {
      assert.equal(res.code, 0, `aws exited ${res.code}: ${res.stderr}`);
      return res.json ?? {};
    }
    function failed(res: AwsCliResult, errorName: string): void {
      assert.notEqual(res.code, 0, `aws should fail, printed: ${res.stdout}`);
      assert.match(res.stderr, new RegExp(`\\(${errorName}\\)`), res.stderr);
    }
    /** CLI v1 prints timestamps as botocore received them: epoch seconds. */
    const epochMs = (v: unknown) => Math.round(Number(v) * 1000);

    it('creates a package and a version with attributes, publishes it and reads it back', async () => {
      const pkg = ok(await aws('create-package', '--package-name', 'cli-pkg', '--description', 'from the CLI', '--tags', 'team=fw,stage=dev'));
      assert.equal(pkg.packageName, 'cli-pkg');
      assert.equal(pkg.packageArn, `arn:aws:iot:${REGION}:${ACCOUNT}:package/cli-pkg`);
      assert.equal(pkg.description, 'from the CLI');
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'cli-pkg' }))).description, 'from the CLI');

      const createdAt = t.clock.now();
      const version = ok(await aws('create-package-version', '--package-name', 'cli-pkg', '--version-name', '1.0.0',
        '--attributes', 'os=linux,arch:cpu=arm64', '--description', 'first'));
      assert.equal(version.status, 'DRAFT');
      assert.equal(version.packageVersionArn, `arn:aws:iot:${REGION}:${ACCOUNT}:package/cli-pkg/version/1.0.0`);
      assert.deepEqual(version.attributes, { os: 'linux', 'arch:cpu': 'arm64' });

      t.clock.advance(30_000);
      ok(await aws('update-package-version', '--package-name', 'cli-pkg', '--version-name', '1.0.0', '--action', 'PUBLISH'));

      const got = ok(await aws('get-package-version', '--package-name', 'cli-pkg', '--version-name', '1.0.0'));
      assert.equal(got.status, 'PUBLISHED');
      assert.equal(got.description, 'first');
      assert.deepEqual(got.attributes, { os: 'linux', 'arch:cpu': 'arm64' });
      assert.equal(epochMs(got.creationDate), createdAt);
      assert.equal(epochMs(got.lastModifiedDate), createdAt + 30_000);

      // A query-string parameter holding an ARN, encoded the botocore way.
      const tags = ok(await aws('list-tags-for-resource', '--resource-arn', String(pkg.packageArn)));
      assert.deepEqual((tags.tags as { Key: string; Value: string }[]).sort((a, b) => a.Key.localeCompare(b.Key)), [
        { Key: 'stage', Value: 'dev' }, { Key: 'team', Value: 'fw' },
      ]);
    });

    it('lists packages, following nextToken page by page, and filters versions', async () => {
      for (const name of ['cli-list-a', 'cli-list-b']) await t.iot.send(new CreatePackageCommand({ packageName: name }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'cli-list-a', versionName: 'v1' }));

      // --page-size 1 makes the CLI send maxResults=1 and walk every nextToken itself.
      const listed = ok(await aws('list-packages', '--page-size', '1'));
      const names = (listed.packageSummaries as { packageName: string }[]).map((s) => s.packageName);
      assert.deepEqual([...names].sort(), ['cli-list-a', 'cli-list-b', 'cli-pkg']);

      const published = ok(await aws('list-package-versions', '--package-name', 'cli-pkg', '--status', 'PUBLISHED'));
      assert.deepEqual((published.packageVersionSummaries as { versionName: string }[]).map((s) => s.versionName), ['1.0.0']);
    });

    it('reports service errors by name with a failing exit code', async () => {
      failed(await aws('get-package', '--package-name', 'cli-missing'), 'ResourceNotFoundException');
      const invalid = await aws('create-package-version', '--package-name', 'cli-pkg', '--version-name', '2.0', '--description', 'tab\there');
      failed(invalid, 'ValidationException');
      assert.match(invalid.stderr, /1 validation error detected: Value 'tab\there' at 'description' failed to satisfy constraint/);
    });

    it('is refused with a wrong secret', async () => {
      const res = await runAwsCli(t.url, ['iot', 'list-packages'], cliEnv({ accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' }));
      failed(res, 'InvalidSignatureException');
    });
  });
}
