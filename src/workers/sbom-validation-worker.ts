import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SbomValidationQueue } from '../domain/packages/sbom-service.js';
import type { S3Location } from '../domain/s3-location.js';
import { failedWithoutCode, overallStatus, prepareForStorage, type SbomFileResult } from '../domain/sbom/results.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { Store } from '../store/store.js';
import { objectFileName, sbomFilesOf, type SbomReadLimits } from './sbom-archive.js';
import { SbomValidationThreads, type SbomFileValidator } from './sbom-validation-threads.js';

/**
 * Validates associated SBOMs in the background (packages.md §9.3, §9.8). AssociateSbom answers
 * IN_PROGRESS and enqueues {version, generation}; this worker reads the object, validates each
 * file and, in one transaction, writes the per-file results and SUCCEEDED/FAILED — but only if the
 * association is still that generation and IN_PROGRESS, so a re-association or disassociation
 * meanwhile never receives a stale result.
 *
 * Crash safety comes from the database, not from memory: a version stays IN_PROGRESS until its
 * results commit, and start() re-enqueues every IN_PROGRESS version. close() abandons work in
 * flight (it is redone at the next start).
 */
export interface SbomValidationSettings extends SbomReadLimits {
  /** Validations run at the same time (each holds at most one file of maxFileBytes in memory). */
  maxConcurrentValidations: number;
  /** A file whose validation takes longer fails (its thread is ended). */
  validationTimeoutMs: number;
  /** Validations waiting or running at which new associations are refused (packages.md §9.6). */
  maxQueuedValidations: number;
}

/** AWS publishes none of these (packages.md §9.7); generous for real SBOMs, bounded for bombs. */
export const DEFAULT_SBOM_VALIDATION_SETTINGS: SbomValidationSettings = {
  maxArchiveBytes: 256 * 1024 * 1024,
  maxFileBytes: 64 * 1024 * 1024,
  maxEntries: 1000,
  maxTotalUncompressedBytes: 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxConcurrentValidations: 2,
  validationTimeoutMs: 5 * 60 * 1000,
  maxQueuedValidations: 100,
};

export interface SbomValidationJob {
  packageName: string;
  versionName: string;
  generation: number;
}

export interface SbomValidationWorkerDeps {
  store: Store;
  objects: ObjectStore;
  logger: Logger;
  /** A directory of its own for spooled zips; emptied at start. */
  tempDir: string;
  settings?: Partial<SbomValidationSettings>;
  /** Validates one file; by default on worker threads of its own, one per concurrent validation. A validator passed in is not closed by close(). */
  validator?: SbomFileValidator;
  /** How long this node's claim on a validation lasts without renewal (another node then takes it). */
  leaseMs?: number;
}

function jobKey(job: { packageName: string; versionName: string }): string {
  return `${job.packageName}\u0000${job.versionName}`;
}

/** The troubleshooting guide's wording for an SBOM the service cannot reach (packages.md §9.6). */
function notAccessible(what: 'bucket' | 'key' | 'version'): string {
  const part = what === 'version' ? 'bucket/key/version' : what;
  return `SBOM not accessible by the service. Please make sure the ${part} exists and S3 permission is granted.`;
}

export class SbomValidationWorker implements SbomValidationQueue {
  readonly settings: SbomValidationSettings;
  /** This process, as the owner of the leases it takes. */
  private readonly owner = randomUUID();
  /** Latest job per version, in arrival order. */
  private readonly queued = new Map<string, SbomValidationJob>();
  private readonly running = new Map<string, { job: SbomValidationJob; abort: AbortController; done: Promise<void> }>();
  private idleWaiters: (() => void)[] = [];
  private paused = false;
  private closed = false;
  private readonly validator: SbomFileValidator;
  private readonly ownsValidator: boolean;

  constructor(private readonly deps: SbomValidationWorkerDeps) {
    this.settings = { ...DEFAULT_SBOM_VALIDATION_SETTINGS, ...deps.settings };
    this.ownsValidator = !deps.validator;
    this.validator = deps.validator ?? new SbomValidationThreads(this.settings.maxConcurrentValidations, this.settings.validationTimeoutMs, deps.logger);
  }

  /** Prepares the temp directory and resumes every validation left IN_PROGRESS (e.g. by a crash). */
  async start(): Promise<void> {
    await rm(this.deps.tempDir, { recursive: true, force: true });
    await mkdir(this.deps.tempDir, { recursive: true });
    const pending = await this.deps.store.packageVersions.listSbomInProgress();
    for (const row of pending) this.enqueue({ packageName: row.package_name, versionName: row.version_name, generation: row.sbom_generation });
    if (pending.length > 0) this.deps.logger.info({ count: pending.length }, 'resuming SBOM validations left in progress');
  }

  enqueue(job: SbomValidationJob): void {
    if (this.closed) return; // stays IN_PROGRESS; the next start resumes it
    const key = jobKey(job);
    // A queued job reads the version row when it starts, so one queued job per version suffices.
    // A running one is not enough: a version deleted and re-created restarts at generation 1, so
    // an equal generation may be a different SBOM (its commit is refused then; see run()).
    const waiting = this.queued.get(key);
    if (waiting && waiting.generation >= job.generation) return;
    this.queued.delete(key);
    this.queued.set(key, job);
    const current = this.running.get(key);
    // The running one can only produce a stale result now; stop it early.
    if (current && current.job.generation < job.generation) current.abort.abort();
    this.pump();
  }

  /** Validations waiting and running on this node (the metrics). */
  queueUse(): { queued: number; running: number } {
    return { queued: this.queued.size, running: this.running.size };
  }

  /** Stops starting validations (queued ones wait); for maintenance and deterministic tests. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Resolves once nothing is queued or running (at once if so already; also when closed). While paused, queued jobs keep it pending. */
  idle(): Promise<void> {
    if (this.closed || (this.queued.size === 0 && this.running.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Test mode's reset: drops queued work and stops what runs, and waits for it, while the worker
   * stays open for what comes after. The rows it worked for are about to be wiped.
   */
  async abandonAll(): Promise<void> {
    this.queued.clear();
    const inFlight = [...this.running.values()];
    for (const r of inFlight) r.abort.abort();
    await Promise.allSettled(inFlight.map((r) => r.done));
    this.settleIdle();
  }

  /** Abandons queued and running work (it stays IN_PROGRESS in the database) and waits for it to stop. */
  async close(): Promise<void> {
    this.closed = true;
    this.queued.clear();
    const inFlight = [...this.running.values()];
    for (const r of inFlight) r.abort.abort();
    if (this.ownsValidator) await this.validator.close();
    await Promise.all(inFlight.map((r) => r.done));
    // What this node gave up is free for the next one at once, not after its lease.
    await this.deps.store.sbomValidations.releaseAll(this.owner).catch(() => undefined);
    this.settleIdle();
  }

  /**
   * Whether an association of this version may be accepted now. Re-associating a version whose
   * validation is still waiting replaces that job rather than adding one, so it is always accepted.
   */
  hasCapacity(version: { packageName: string; versionName: string }): boolean {
    if (this.queued.has(jobKey(version))) return true;
    return this.queued.size + this.running.size < this.settings.maxQueuedValidations;
  }

  /** Validations waiting and running now (for health output and tests). */
  stats(): { queued: number; running: number } {
    return { queued: this.queued.size, running: this.running.size };
  }

  private pump(): void {
    while (!this.paused && !this.closed && this.running.size < this.settings.maxConcurrentValidations) {
      let next: [string, SbomValidationJob] | undefined;
      for (const entry of this.queued) {
        // One run per version at a time; a newer job waits for the (aborted) older run to end.
        if (!this.running.has(entry[0])) {
          next = entry;
          break;
        }
      }
      if (!next) break;
      const [key, job] = next;
      this.queued.delete(key);
      const abort = new AbortController();
      const done = this.run(job, abort.signal)
        .catch((err: unknown) => {
          if (abort.signal.aborted) return;
          // Left IN_PROGRESS: the next start retries it.
          this.deps.logger.error({ err, ...job }, 'SBOM validation failed unexpectedly');
        })
        .finally(() => {
          this.running.delete(key);
          this.pump();
        });
      this.running.set(key, { job, abort, done });
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (!this.closed && (this.queued.size > 0 || this.running.size > 0)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** The association the job is for, if it is still current and unfinished. */
  private async isCurrent(job: SbomValidationJob): Promise<{ sbom: string; location: S3Location } | undefined> {
    const row = await this.deps.store.packageVersions.get(job.packageName, job.versionName);
    if (!row || row.sbom === null || row.sbom_generation !== job.generation || row.sbom_validation_status !== 'IN_PROGRESS') return undefined;
    return { sbom: row.sbom, location: (JSON.parse(row.sbom) as { s3Location: S3Location }).s3Location };
  }

  private async run(job: SbomValidationJob, signal: AbortSignal): Promise<void> {
    // Give the request that enqueued us time to finish before any CPU-heavy work.
    await nextTurn();
    const current = await this.isCurrent(job);
    if (!current) return; // re-associated, disassociated or deleted meanwhile
    // One node validates an association: the lease is renewed while this one works on it, and a
    // node that dies leaves it to whichever takes it after the lease (decision 0013). Wall-clock
    // time: the lease is about real work of a real process.
    const leaseMs = this.deps.leaseMs ?? 15_000;
    if (!(await this.deps.store.sbomValidations.claim(job.packageName, job.versionName, job.generation, this.owner, Date.now(), Date.now() + leaseMs))) return;
    const heartbeat = setInterval(() => {
      void this.deps.store.sbomValidations.renew(job.packageName, job.versionName, this.owner, Date.now() + leaseMs).catch(() => undefined);
    }, Math.max(1000, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    const started = Date.now();
    let results: SbomFileResult[];
    try {
      results = prepareForStorage(await this.validateObject(current.location, signal));
    } finally {
      clearInterval(heartbeat);
    }
    signal.throwIfAborted();
    const status = overallStatus(results);
    const written = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.sbomValidations.complete(job.packageName, job.versionName, job.generation, current.sbom, status))) return false;
      await tx.sbomResults.replace(job.packageName, job.versionName, results.map((r) => ({
        package_name: job.packageName,
        version_name: job.versionName,
        file_name: r.fileName,
        validation_result: r.validationResult,
        error_code: r.errorCode ?? null,
        error_message: r.errorMessage ?? null,
      })));
      return true;
    });
    this.deps.logger.info({ ...job, status, files: results.length, ms: Date.now() - started, stale: !written }, 'SBOM validation finished');
  }

  /** Every file's result; problems reaching the object become a result too, never an exception. */
  private async validateObject(location: S3Location, signal: AbortSignal): Promise<SbomFileResult[]> {
    const name = objectFileName(location.key);
    const lookup = await this.deps.objects.head(location.bucket, location.key, location.version);
    if (!lookup.found) return [failedWithoutCode(name, notAccessible(lookup.missing))];
    let opened: Awaited<ReturnType<ObjectStore['open']>>;
    try {
      opened = await this.deps.objects.open(location.bucket, location.key, location.version);
    } catch (err) {
      this.deps.logger.warn({ err, ...location }, 'SBOM object could not be opened');
      return [failedWithoutCode(name, notAccessible('version'))];
    }
    const results: SbomFileResult[] = [];
    const files = sbomFilesOf({ key: location.key, size: opened.head.size, body: opened.body }, this.settings, this.deps.tempDir, signal);
    for await (const item of files) {
      signal.throwIfAborted();
      results.push('result' in item ? item.result : await this.validateFile(item.fileName, item.bytes, signal));
    }
    return results;
  }

  /** A bug or a broken thread fails that file rather than leaving the version IN_PROGRESS for good. */
  private async validateFile(fileName: string, bytes: Buffer, signal: AbortSignal): Promise<SbomFileResult> {
    try {
      return await this.validator.validate(fileName, bytes);
    } catch (err) {
      if (signal.aborted) throw err;
      this.deps.logger.error({ err, fileName }, 'SBOM file validation failed unexpectedly');
      return failedWithoutCode(fileName, 'The file could not be validated because of an internal error.');
    }
  }
}
