import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { VirtualClock } from '../../src/clock.js';
import { Arns } from '../../src/domain/arns.js';
import { DEFAULT_LIMITS, type DomainContext } from '../../src/domain/context.js';
import { acceptAnyLocation } from '../../src/domain/packages/object-check.js';
import { SbomService, type SbomValidationQueue } from '../../src/domain/packages/sbom-service.js';
import type { ObjectHead, ObjectLookup, ObjectStore } from '../../src/objects/object-store.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { Store } from '../../src/store/store.js';
import { SbomValidationThreads } from '../../src/workers/sbom-validation-threads.js';
import { SbomValidationWorker, type SbomValidationSettings } from '../../src/workers/sbom-validation-worker.js';
import { json, minimalCycloneDx, minimalSpdx } from '../support/sbom-fixtures.js';
import { buildZip } from '../support/zip-writer.js';

/**
 * The worker against a real SQLite store and the real SbomService, with an in-memory object
 * store whose bodies can be held open — so "something happens while a validation is reading"
 * is deterministic rather than timed.
 */
class MemoryObjects implements ObjectStore {
  private readonly objects = new Map<string, Buffer | PassThrough>();
  private readonly openWaiters = new Map<string, () => void>();
  opens = 0;

  private id(bucket: string, key: string, version?: string): string {
    return `${bucket}/${key}#${version ?? ''}`;
  }

  put(bucket: string, key: string, version: string, data: Buffer): void {
    this.objects.set(this.id(bucket, key, version), data);
  }

  /** An object whose body only flows when the test writes to the returned stream. */
  hold(bucket: string, key: string, version: string): { stream: PassThrough; opened: Promise<void> } {
    const stream = new PassThrough();
    this.objects.set(this.id(bucket, key, version), stream);
    const opened = new Promise<void>((resolve) => this.openWaiters.set(this.id(bucket, key, version), resolve));
    return { stream, opened };
  }

  async head(bucket: string, key: string, versionId?: string): Promise<ObjectLookup> {
    const data = this.objects.get(this.id(bucket, key, versionId));
    if (!data) return { found: false, missing: [...this.objects.keys()].some((k) => k.startsWith(`${bucket}/${key}#`)) ? 'version' : 'key' };
    return { found: true, head: this.describe(bucket, key, versionId, Buffer.isBuffer(data) ? data.length : 1000) };
  }

  async open(bucket: string, key: string, versionId?: string): Promise<{ head: ObjectHead; body: Readable }> {
    const id = this.id(bucket, key, versionId);
    const data = this.objects.get(id);
    if (!data) throw new Error('NoSuchKey');
    this.opens++;
    this.openWaiters.get(id)?.();
    return Buffer.isBuffer(data)
      ? { head: this.describe(bucket, key, versionId, data.length), body: Readable.from([data]) }
      : { head: this.describe(bucket, key, versionId, 1000), body: data };
  }

  async presignGet(): Promise<string> {
    throw new Error('not used');
  }

  async presignPut(): Promise<string> {
    throw new Error('not used');
  }

  private describe(bucket: string, key: string, versionId: string | undefined, size: number): ObjectHead {
    return { bucket, key, versionId, size, etag: '"x"', lastModified: new Date(0) };
  }
}

const silent = pino({ level: 'silent' });

describe('SBOM validation worker', () => {
  let dataDir: string;
  let opened: OpenedDatabase;
  let store: Store;
  let objects: MemoryObjects;
  let worker: SbomValidationWorker;
  let sboms: SbomService;
  const workers: SbomValidationWorker[] = [];
  // One pool of validation threads for the suite: starting threads (and compiling schemas) is the slow part.
  let threads: SbomValidationThreads;
  before(() => {
    threads = new SbomValidationThreads(2, 60_000, silent);
  });
  after(() => threads.close());

  /** The queue the service enqueues into, pointing at the current worker (restarts swap it). */
  const queue: SbomValidationQueue = { enqueue: (job) => worker.enqueue(job), hasCapacity: (version) => worker.hasCapacity(version) };

  async function startWorker(settings: Partial<SbomValidationSettings> = {}): Promise<SbomValidationWorker> {
    worker = new SbomValidationWorker({ store, objects, logger: silent, tempDir: join(dataDir, 'tmp', 'sbom'), settings, validator: threads });
    workers.push(worker);
    await worker.start();
    return worker;
  }

  async function version(versionName: string): Promise<void> {
    const now = Date.now();
    if (!(await store.packages.get('fw'))) await store.packages.insert({ package_name: 'fw', description: null, default_version_name: null, created_at: now, updated_at: now });
    await store.packageVersions.insert({
      package_name: 'fw', version_name: versionName, description: null, attributes: null, artifact: null, recipe: null,
      status: 'DRAFT', sbom: null, sbom_validation_status: null, sbom_generation: 0, created_at: now, updated_at: now,
    });
  }

  function associate(versionName: string, key: string, v = '1', service = sboms) {
    return service.associateSbom({ packageName: 'fw', versionName, sbom: { s3Location: { bucket: 'sboms', key, version: v } } });
  }

  async function state(versionName: string) {
    const row = await store.packageVersions.get('fw', versionName);
    const results = await sboms.listSbomValidationResults({ packageName: 'fw', versionName });
    return { status: row?.sbom_validation_status ?? null, results: results.validationResultSummaries };
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-sbom-worker-'));
    opened = await openDatabase({ dataDir });
    await migrateToLatest(opened.db, opened.dialect);
    store = new Store(opened.db, opened.dialect);
    objects = new MemoryObjects();
    const ctx: DomainContext = { store, clock: new VirtualClock(), arns: new Arns('us-east-1', '123456789012'), limits: DEFAULT_LIMITS };
    sboms = new SbomService(ctx, acceptAnyLocation, queue);
  });

  afterEach(async () => {
    for (const w of workers.splice(0)) await w.close();
    await opened.db.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('validates an associated SBOM and records SUCCEEDED with its file', async () => {
    await startWorker();
    await version('1.0');
    objects.put('sboms', 'fw/1.0/sbom.spdx.json', '1', json(minimalSpdx()));
    const answer = await associate('1.0', 'fw/1.0/sbom.spdx.json');
    assert.equal(answer.sbomValidationStatus, 'IN_PROGRESS');
    await worker.idle();
    assert.deepEqual(await state('1.0'), { status: 'SUCCEEDED', results: [{ fileName: 'sbom.spdx.json', validationResult: 'SUCCEEDED' }] });
  });

  it('records FAILED with one result per zip entry, duplicate names kept apart', async () => {
    await startWorker();
    await version('1.0');
    objects.put('sboms', 'bundle.zip', '1', buildZip([
      { name: 'a.json', data: json(minimalCycloneDx('1.5')) },
      { name: 'dir/' },
      { name: 'b.json', data: '{"bomFormat":"CycloneDX","specVersion":"1.2"}', method: 'deflate' },
      { name: 'a.json', data: json(minimalSpdx()) },
    ]));
    await associate('1.0', 'bundle.zip');
    await worker.idle();
    const { status, results } = await state('1.0');
    assert.equal(status, 'FAILED');
    assert.deepEqual(results.map((r) => [r.fileName, r.validationResult, r.errorCode]), [
      ['a.json', 'SUCCEEDED', undefined],
      ['a.json (2)', 'SUCCEEDED', undefined],
      ['b.json', 'FAILED', 'INCOMPATIBLE_FORMAT'],
    ]);
    assert.match(results[2].errorMessage!, /Unsupported CycloneDX version at \/specVersion: found "1.2"/);
    assert.deepEqual(await readdir(join(dataDir, 'tmp', 'sbom')), [], 'the spooled zip is removed');
  });

  it('fails with an explanation when the object is gone at validation time', async () => {
    await startWorker();
    await version('1.0');
    objects.put('sboms', 'sbom.json', '1', json(minimalSpdx()));
    await associate('1.0', 'sbom.json', '2');
    await worker.idle();
    assert.deepEqual(await state('1.0'), {
      status: 'FAILED',
      results: [{ fileName: 'sbom.json', validationResult: 'FAILED', errorMessage: 'SBOM not accessible by the service. Please make sure the bucket/key/version exists and S3 permission is granted.' }],
    });
  });

  it('applies the size limits from its settings', async () => {
    await startWorker({ maxFileBytes: 100 });
    await version('1.0');
    objects.put('sboms', 'sbom.json', '1', json(minimalSpdx()));
    await associate('1.0', 'sbom.json');
    await worker.idle();
    const { status, results } = await state('1.0');
    assert.equal(status, 'FAILED');
    assert.equal(results[0].errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
  });

  it('gives a re-association during a validation only its own result', async () => {
    await startWorker();
    await version('1.0');
    const first = objects.hold('sboms', 'old.json', '1');
    objects.put('sboms', 'new.json', '1', json(minimalCycloneDx()));
    await associate('1.0', 'old.json');
    await first.opened;
    await associate('1.0', 'new.json');
    first.stream.end('{"not": "an sbom"}');
    await worker.idle();
    assert.deepEqual(await state('1.0'), { status: 'SUCCEEDED', results: [{ fileName: 'new.json', validationResult: 'SUCCEEDED' }] });
  });

  it('writes nothing when another instance re-associated before the result commits', async () => {
    await startWorker();
    await version('1.0');
    const held = objects.hold('sboms', 'old.json', '1');
    await associate('1.0', 'old.json');
    await held.opened;
    // Another server on the same database re-associates; this worker is not told.
    const elsewhere = new SbomService({ store, clock: new VirtualClock(), arns: new Arns('us-east-1', '123456789012'), limits: DEFAULT_LIMITS }, acceptAnyLocation, { enqueue: () => undefined, hasCapacity: () => true });
    await associate('1.0', 'other.json', '1', elsewhere);
    held.stream.end(json(minimalSpdx()));
    await worker.idle();
    assert.deepEqual(await state('1.0'), { status: 'IN_PROGRESS', results: [] });
  });

  it('keeps a deleted and re-created version (generations start again) from inheriting the old result', async () => {
    await startWorker();
    await version('1.0');
    const held = objects.hold('sboms', 'old.json', '1');
    objects.put('sboms', 'new.json', '1', json({ not: 'an sbom' }));
    await associate('1.0', 'old.json');
    await held.opened;
    await store.packageVersions.delete('fw', '1.0');
    await version('1.0');
    await associate('1.0', 'new.json'); // generation 1 again, like the job still running
    held.stream.end(json(minimalSpdx()));
    await worker.idle();
    const { status, results } = await state('1.0');
    assert.equal(status, 'FAILED');
    assert.deepEqual(results.map((r) => r.fileName), ['new.json']);
  });

  it('drops the result of a validation whose SBOM was disassociated meanwhile', async () => {
    await startWorker();
    await version('1.0');
    const held = objects.hold('sboms', 'sbom.json', '1');
    await associate('1.0', 'sbom.json');
    await held.opened;
    await sboms.disassociateSbom({ packageName: 'fw', versionName: '1.0' });
    held.stream.end(json(minimalSpdx()));
    await worker.idle();
    assert.deepEqual(await state('1.0'), { status: null, results: [] });
  });

  it('resumes a validation left IN_PROGRESS by a previous run', async () => {
    await startWorker();
    worker.pause();
    await version('1.0');
    objects.put('sboms', 'sbom.json', '1', json(minimalSpdx()));
    await associate('1.0', 'sbom.json');
    assert.deepEqual(worker.stats(), { queued: 1, running: 0 });
    await worker.close();
    assert.equal((await state('1.0')).status, 'IN_PROGRESS');

    await startWorker();
    await worker.idle();
    assert.deepEqual(await state('1.0'), { status: 'SUCCEEDED', results: [{ fileName: 'sbom.json', validationResult: 'SUCCEEDED' }] });
  });

  it('abandons a running validation at close, leaving it IN_PROGRESS for the next start', async () => {
    await startWorker();
    await version('1.0');
    const held = objects.hold('sboms', 'sbom.json', '1');
    await associate('1.0', 'sbom.json');
    await held.opened;
    await worker.close();
    assert.equal((await state('1.0')).status, 'IN_PROGRESS');
    objects.put('sboms', 'sbom.json', '1', json(minimalSpdx()));
    await startWorker();
    await worker.idle();
    assert.equal((await state('1.0')).status, 'SUCCEEDED');
  });

  it('runs at most maxConcurrentValidations at once', async () => {
    await startWorker({ maxConcurrentValidations: 1 });
    await version('1.0');
    await version('2.0');
    const a = objects.hold('sboms', 'a.json', '1');
    const b = objects.hold('sboms', 'b.json', '1');
    await associate('1.0', 'a.json');
    await associate('2.0', 'b.json');
    await a.opened;
    assert.deepEqual(worker.stats(), { queued: 1, running: 1 });
    assert.equal(objects.opens, 1);
    a.stream.end(json(minimalSpdx()));
    await b.opened;
    b.stream.end(json(minimalSpdx()));
    await worker.idle();
    assert.equal((await state('1.0')).status, 'SUCCEEDED');
    assert.equal((await state('2.0')).status, 'SUCCEEDED');
  });

  it('resolves idle() at once when there is nothing to do', async () => {
    await startWorker();
    await worker.idle();
    assert.deepEqual(worker.stats(), { queued: 0, running: 0 });
  });
});
