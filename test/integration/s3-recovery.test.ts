import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/app.js';
import { VirtualClock } from '../../src/clock.js';
import { resolveConfig } from '../../src/config/config.js';
import { POSTGRES_URL, testBackends, type Backend } from '../support/backends.js';
import { REGION, TEST_CREDENTIALS } from '../support/server.js';

/** A server on a data dir (and PostgreSQL schema) that outlives it, so it can be started again. */
function boot(backend: Backend, dataDir: string, schema: string | undefined): Promise<RunningServer> {
  const config = resolveConfig(
    { port: 0, mqttPort: 0, dataDir, databaseUrl: backend.name === 'postgres' ? POSTGRES_URL : undefined },
    { FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
  );
  return startServer({ config, clock: new VirtualClock(Date.now()), logger: pino({ level: 'silent' }), databaseSchema: schema });
}

const client = (server: RunningServer) =>
  new S3Client({ endpoint: server.url, region: REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' });

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name).slice(dir.length + 1));
  }
  return out.sort();
}

/**
 * Object writes are atomic: an upload cut off mid-body leaves nothing visible and no temp file, and
 * whatever a crash leaves on disk (temp files, files no metadata row points at) is removed at the
 * next start.
 */
for (const backend of await testBackends()) {
  describe(`embedded S3: crash safety (${backend.name})`, { skip: backend.skip }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('drops an upload whose connection breaks mid-body', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-s3-abort-'));
      const schema = backend.name === 'postgres' ? `fj_rec_${process.pid}_${Math.random().toString(36).slice(2, 8)}` : undefined;
      const server = await boot(backend, dataDir, schema);
      const s3 = client(server);
      cleanups.push(async () => {
        s3.destroy();
        await server.close();
        await dropAll(dataDir, schema);
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'cut-off' }));

      // The client gives up mid-body: 200 KB of a declared 1 MB, then the connection is aborted.
      const bucketDir = join(dataDir, 'objects', 'cut-off');
      const abort = new AbortController();
      let sent = 0;
      let sawTemp = false;
      const body = new Readable({
        read() {
          if (sent < 200_000) {
            sent += 100_000;
            this.push(Buffer.alloc(100_000, 1));
            return;
          }
          // Abort once the server is visibly writing the upload to a temp file (bounded wait).
          void (async () => {
            for (let i = 0; i < 200 && !sawTemp; i++) {
              sawTemp = existsSync(bucketDir) && (await filesUnder(bucketDir)).some((f) => f.endsWith('.tmp'));
              if (!sawTemp) await new Promise((r) => setTimeout(r, 25));
            }
            abort.abort();
          })();
        },
      });
      await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'cut-off', Key: 'partial.bin', Body: body, ContentLength: 1_000_000 }), { abortSignal: abort.signal }));
      assert.ok(sawTemp, 'the server was writing the partial upload');
      // The server notices the broken connection asynchronously; wait for its cleanup (bounded).
      for (let i = 0; i < 200 && existsSync(bucketDir) && (await filesUnder(bucketDir)).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(existsSync(bucketDir) ? await filesUnder(bucketDir) : [], []);
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'cut-off' }))).KeyCount, 0);
    });

    it('removes temp and unreferenced files after a crash, and keeps everything else', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-s3-recover-'));
      const schema = backend.name === 'postgres' ? `fj_rec_${process.pid}_${Math.random().toString(36).slice(2, 8)}` : undefined;
      cleanups.push(() => dropAll(dataDir, schema));

      const first = await boot(backend, dataDir, schema);
      const s3 = client(first);
      await s3.send(new CreateBucketCommand({ Bucket: 'survivor' }));
      await s3.send(new PutObjectCommand({ Bucket: 'survivor', Key: 'kept.txt', Body: 'still here' }));
      s3.destroy();
      await first.close();
      const objects = join(dataDir, 'objects');
      const kept = await filesUnder(join(objects, 'survivor'));
      assert.equal(kept.length, 1);

      // What a crash can leave: a temp file mid-write, a renamed file whose row never committed,
      // and files of a bucket this database does not know (left alone); no clean-shutdown marker.
      await unlink(join(objects, '.clean-shutdown'));
      await mkdir(join(objects, 'survivor', 'ab'), { recursive: true });
      await writeFile(join(objects, 'survivor', 'ab', 'ab00000000000000000000000000000a.tmp'), 'half');
      await writeFile(join(objects, 'survivor', 'ab', 'ab00000000000000000000000000000b'), 'orphan');
      await mkdir(join(objects, 'stranger', 'cd'), { recursive: true });
      await writeFile(join(objects, 'stranger', 'cd', 'cd00000000000000000000000000000c'), 'not ours to judge');
      await writeFile(join(objects, 'stranger', 'cd', 'cd00000000000000000000000000000d.tmp'), 'half');

      const second = await boot(backend, dataDir, schema);
      const again = client(second);
      try {
        assert.deepEqual(await filesUnder(join(objects, 'survivor')), kept);
        assert.deepEqual(await filesUnder(join(objects, 'stranger')), [join('cd', 'cd00000000000000000000000000000c')]);
        const got = await again.send(new GetObjectCommand({ Bucket: 'survivor', Key: 'kept.txt' }));
        assert.equal(await got.Body!.transformToString(), 'still here');
      } finally {
        again.destroy();
        await second.close();
      }
    });
  });
}

async function dropAll(dataDir: string, schema: string | undefined): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  if (schema) {
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}
