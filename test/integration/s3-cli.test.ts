import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliSkipReason, cliEnv, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

const cliSkip = awsCliSkipReason();

function pseudoRandom(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 42;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >>> 16;
  }
  return out;
}

/** The embedded S3 subset through the real AWS CLI: `aws s3` (including multipart uploads) and `aws s3api`. */
for (const backend of await testBackends()) {
  describe(`embedded S3 with the AWS CLI (${backend.name})`, { skip: backend.skip ?? cliSkip }, () => {
    let t: TestServer;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    before(async () => {
      t = await startTestServer(backend);
      dir = await mkdtemp(join(tmpdir(), 'fleetjobs-s3-cli-'));
      // CLI v1 presigns with SigV2 unless told otherwise; the server verifies SigV4 only.
      const config = join(dir, 'aws-config');
      await writeFile(config, '[default]\ns3 =\n    signature_version = s3v4\n');
      env = { ...cliEnv(), AWS_CONFIG_FILE: config };
    });
    after(async () => {
      await t?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    const aws = async (...args: string[]) => {
      const r = await runAwsCli(t.url, args, env);
      assert.equal(r.code, 0, `aws ${args.join(' ')} failed: ${r.stderr}`);
      return r;
    };

    it('makes a bucket, copies files up and down (multipart above 8 MB) and lists them', async () => {
      await aws('s3', 'mb', 's3://cli-bucket');
      const small = join(dir, 'small.txt');
      await writeFile(small, 'hello from the CLI');
      const big = pseudoRandom(9 * 1024 * 1024 + 123);
      await writeFile(join(dir, 'big.bin'), big);
      await aws('s3', 'cp', small, 's3://cli-bucket/docs/small.txt');
      await aws('s3', 'cp', join(dir, 'big.bin'), 's3://cli-bucket/bin/big.bin');

      const top = await aws('s3', 'ls', 's3://cli-bucket/');
      assert.match(top.stdout, /PRE bin\//);
      assert.match(top.stdout, /PRE docs\//);
      const all = await aws('s3', 'ls', 's3://cli-bucket/', '--recursive');
      assert.match(all.stdout, new RegExp(`\\s${big.length} bin/big\\.bin`));
      assert.match(all.stdout, /\s18 docs\/small\.txt/);
      assert.match((await aws('s3', 'ls')).stdout, /cli-bucket/);

      const head = await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'bin/big.bin');
      assert.match(String(head.json?.ETag), /^"[0-9a-f]{32}-2"$/, 'a two-part multipart ETag');
      await aws('s3', 'cp', 's3://cli-bucket/bin/big.bin', join(dir, 'big.out'));
      const back = await readFile(join(dir, 'big.out'));
      assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(big).digest('hex'));
      await aws('s3', 'cp', 's3://cli-bucket/docs/small.txt', join(dir, 'small.out'));
      assert.equal(await readFile(join(dir, 'small.out'), 'utf8'), 'hello from the CLI');
    });

    it('versions objects with s3api and reads an older version back', async () => {
      await aws('s3api', 'create-bucket', '--bucket', 'cli-versions');
      await aws('s3api', 'put-bucket-versioning', '--bucket', 'cli-versions', '--versioning-configuration', 'Status=Enabled');
      assert.equal((await aws('s3api', 'get-bucket-versioning', '--bucket', 'cli-versions')).json?.Status, 'Enabled');
      const file = join(dir, 'v.txt');
      await writeFile(file, 'first');
      const first = await aws('s3api', 'put-object', '--bucket', 'cli-versions', '--key', 'fw/v.txt', '--body', file);
      await writeFile(file, 'second');
      const second = await aws('s3api', 'put-object', '--bucket', 'cli-versions', '--key', 'fw/v.txt', '--body', file);
      const firstId = String(first.json?.VersionId);
      assert.notEqual(firstId, String(second.json?.VersionId));

      const versions = await aws('s3api', 'list-object-versions', '--bucket', 'cli-versions');
      const listed = (versions.json?.Versions as { VersionId: string; IsLatest: boolean }[]).map((v) => [v.VersionId, v.IsLatest]);
      assert.deepEqual(listed, [[second.json?.VersionId, true], [firstId, false]]);

      const out = join(dir, 'v.out');
      const got = await aws('s3api', 'get-object', '--bucket', 'cli-versions', '--key', 'fw/v.txt', '--version-id', firstId, out);
      assert.equal(got.json?.VersionId, firstId);
      assert.equal(await readFile(out, 'utf8'), 'first');

      await aws('s3', 'rm', 's3://cli-versions/fw/v.txt');
      const afterRm = await aws('s3api', 'list-object-versions', '--bucket', 'cli-versions');
      assert.equal((afterRm.json?.DeleteMarkers as unknown[]).length, 1);
      const missing = await runAwsCli(t.url, ['s3api', 'head-object', '--bucket', 'cli-versions', '--key', 'fw/v.txt'], env);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /404|Not Found/);
    });

    it('presigns with `aws s3 presign` for a download without credentials', async () => {
      await aws('s3', 'mb', 's3://cli-presign');
      const file = join(dir, 'p.txt');
      await writeFile(file, 'presigned by the CLI');
      await aws('s3', 'cp', file, 's3://cli-presign/p.txt');
      const url = (await aws('s3', 'presign', 's3://cli-presign/p.txt', '--expires-in', '120')).stdout.trim();
      assert.match(url, /X-Amz-Signature=/);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'presigned by the CLI');
    });
  });
}
