import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/config.js';
import { Arns } from './domain/arns.js';
import { DEFAULT_LIMITS, type DomainContext, type Limits } from './domain/context.js';
import { createDomainServices, type DomainServices } from './domain/domain-services.js';
import type { JobNotifier } from './domain/jobs/job-notifications.js';
import type { CertificateEvents, DeviceCaPort } from './domain/certificates/certificate-ports.js';
import type { ShadowEvents } from './domain/shadows/shadow-events.js';
import type { ShadowSettings } from './domain/shadows/shadow-settings.js';
import { TagService } from './domain/tags/tag-service.js';
import { ObjectStoreJobDocumentSource, ObjectStoreJobDocumentUrls } from './objects/job-document-objects.js';
import { ObjectStoreLocationCheck } from './objects/object-location-check.js';
import type { ObjectStorage } from './objects/object-storage.js';
import { openDatabase, type OpenedDatabase } from './store/db.js';
import { executionsByStatus, jobsByStatus } from './store/metrics-queries.js';
import type { ServerMetrics } from './metrics/metrics.js';
import { migrateToLatest } from './store/migrations/index.js';
import { Store } from './store/store.js';
import { SeedLoader } from './test-mode/seed.js';
import type { Engine, Reconciler } from './workers/engine.js';
import { executionTimeouts, jobTicker, notificationOutbox } from './workers/job-reconcilers.js';
import { idempotencyPurge, jobDeletions, sbomValidations } from './workers/maintenance-reconcilers.js';
import { IndexBuild } from './domain/indexing/index-build.js';
import type { IndexingSettings } from './domain/indexing/indexing-config.js';
import { dynamicGroupBuild } from './workers/dynamic-group-build-reconciler.js';
import { policyChangeReconciler } from './workers/policy-change-reconciler.js';
import { indexBuild } from './workers/index-build-reconciler.js';
import { SbomValidationWorker, type SbomValidationSettings } from './workers/sbom-validation-worker.js';

/**
 * One region's half of the server (decision 0017): its own database, the domain on it with ARNs in
 * that region, its SBOM worker and its reconcilers on the process's one engine. The process (app.ts)
 * owns what regions share: the port, the key, the clock, the engine loop, object storage and the
 * MQTT door (which serves the home region).
 */
export interface RegionCell {
  region: string;
  store: Store;
  /** e.g. "sqlite /data/fleetjobs.db". */
  storage: string;
  ctx: DomainContext;
  services: DomainServices;
  tags: TagService;
  sbomValidation: SbomValidationWorker;
  seeds: SeedLoader;
  close(): Promise<void>;
}

export interface RegionDatabase {
  store: Store;
  storage: string;
  poolUse: OpenedDatabase['poolUse'];
  destroy(): Promise<void>;
}

/** The region's database, migrated: the home region's is the configured one; others live beside it. */
export async function openRegionDatabase(config: Config, region: string, schema?: string): Promise<RegionDatabase> {
  const home = region === config.region;
  const suffix = region.replace(/-/g, '_');
  const opened = await openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    // SQLite: fleetjobs-<region>.db; PostgreSQL: a schema per region (fleetjobs_<region>, or the
    // home schema's name with the region appended when the home one is named).
    fileName: home ? undefined : `fleetjobs-${region}.db`,
    schema: home ? schema : config.databaseUrl ? (schema ? `${schema}_${suffix}` : `fleetjobs_${suffix}`) : undefined,
  });
  try {
    await migrateToLatest(opened.db, opened.dialect);
  } catch (err) {
    await opened.db.destroy();
    throw err;
  }
  return { store: new Store(opened.db, opened.dialect), storage: `${opened.dialect} ${opened.location}`, poolUse: opened.poolUse, destroy: () => opened.db.destroy() };
}

export interface RegionCellOptions {
  config: Config;
  region: string;
  database: RegionDatabase;
  objects: ObjectStorage;
  clock: Clock;
  engine: Engine;
  logger: Logger;
  nodeId: string;
  /** notify / notify-next: the MQTT door's for the home region, else none. */
  jobNotifier: JobNotifier;
  /** Shadow changes published over MQTT (home region). */
  shadowEvents?: ShadowEvents;
  limits?: Partial<Limits>;
  shadowSettings?: Partial<ShadowSettings>;
  sbomValidation?: Partial<SbomValidationSettings>;
  indexing?: Partial<IndexingSettings>;
  /** The region's gauges and the counters its domain moves. */
  metrics?: ServerMetrics;
  /** The device CA (shared by every region) and what the MQTT door does on certificate changes (home region). */
  deviceCa: DeviceCaPort;
  certificateEvents?: CertificateEvents;
}

export function createRegionCell(o: RegionCellOptions): RegionCell {
  const { config, clock, logger, database } = o;
  const store = database.store;
  const arns = new Arns(o.region, config.accountId);
  const ctx: DomainContext = { store, clock, arns, limits: { ...DEFAULT_LIMITS, ...config.catalogQuotas, ...o.limits } };
  const leaseMs = config.leaseMs;
  const log = (component: string) => logger.child({ component, ...(o.region === config.region ? {} : { region: o.region }) });

  // SBOM validation runs in the background on its own threads (packages.md §9.8); it is started
  // after listen, resuming every validation a crash or shutdown left IN_PROGRESS.
  const sbomValidation = new SbomValidationWorker({
    store,
    objects: o.objects.store,
    logger: log('sbom-validation'),
    tempDir: join(config.dataDir, 'tmp', o.region === config.region ? 'sbom-validation' : `sbom-validation-${o.region}`),
    // Test options override the operator's settings, which override the defaults.
    settings: { ...config.sbomValidation, ...o.sbomValidation },
    leaseMs,
  });

  // The domain (domain/domain-services.ts) and the ports it reaches out through. The catalog checks
  // artifact and SBOM locations against the object store, as AWS does; it serves job documents.
  const jobActivity = o.metrics?.addRegion({
    region: o.region,
    executionsByStatus: () => executionsByStatus(store.db),
    jobsByStatus: () => jobsByStatus(store.db),
    sbomQueue: () => sbomValidation.queueUse(),
    poolUse: database.poolUse,
  });
  const ports = {
    jobActivity,
    locationCheck: new ObjectStoreLocationCheck(o.objects.store),
    sbomQueue: sbomValidation,
    shadowEvents: o.shadowEvents,
    shadowSettings: { ...config.shadows, ...o.shadowSettings },
    jobNotifier: o.jobNotifier,
    jobDocumentUrls: new ObjectStoreJobDocumentUrls(o.objects.store),
    jobDocumentSource: new ObjectStoreJobDocumentSource(o.objects.store),
    indexingSettings: { ...(config.indexBuildDelayMs !== undefined ? { indexBuildDelayMs: config.indexBuildDelayMs } : {}), ...o.indexing },
    deviceCa: o.deviceCa,
    certificateEvents: o.certificateEvents,
    dynamicGroupLog: log('dynamic-groups'),
    onJobDeletionFailure: (jobId: string, err: unknown, attempt: number) =>
      logger.error({ err, jobId, attempt, region: o.region }, 'job deletion failed; it is retried, and resumed at the next start'),
  };
  const services = createDomainServices(ctx, ports);

  // Taggable resource types. AWS IoT does not tag things themselves (only thing groups, thing
  // types, billing groups, ...), so 'thing' is deliberately not a taggable type.
  const tags = new TagService(store, arns);
  tags.register('package', async (s, path) =>
    path.length === 1 ? (await s.packages.get(path[0])) !== undefined
      : path.length === 3 && path[1] === 'version' ? (await s.packageVersions.get(path[0], path[2])) !== undefined
        : false);
  tags.register('thinggroup', async (s, path) => path.length === 1 && (await s.thingGroups.get(path[0])) !== undefined);
  tags.register('policy', async (s, path) => path.length === 1 && (await s.policies.get(path[0])) !== undefined);
  tags.register('billinggroup', async (s, path) => path.length === 1 && (await s.billingGroups.get(path[0])) !== undefined);
  tags.register('thingtype', async (s, path) => path.length === 1 && (await s.thingTypes.get(path[0])) !== undefined);
  tags.register('cacert', async (s, path) => path.length === 1 && (await s.caCertificates.get(path[0])) !== undefined);
  tags.register('job', async (s, path) => path.length === 1 && (await s.jobs.get(path[0])) !== undefined);
  tags.register('jobtemplate', async (s, path) => path.length === 1 && (await s.jobTemplates.get(path[0])) !== undefined);

  // The rollout engine's work in this region: job ticks (releases, window edges, start and end
  // times, abort sweeps) and execution timeouts, as reconcilers safe on every node (decision 0013).
  const engineLog = log('engine');
  const reconcilers: Reconciler[] = [
    jobTicker({ store, clock, rollout: services.jobDomain.rollout, leaseMs, log: engineLog }),
    executionTimeouts({ store, bulk: services.jobDomain.bulk }),
    // The outbox's age is real time: it is about a process that died, not about domain time.
    notificationOutbox({ store, clock: systemClock, leaseMs, notifier: o.jobNotifier }),
    jobDeletions({ store, clock, jobs: services.jobServices.jobs, leaseMs, log: engineLog }),
    sbomValidations({ store, worker: sbomValidation }),
    idempotencyPurge({ store, clock, holder: o.nodeId }),
    indexBuild({ store, build: new IndexBuild(ctx), holder: o.nodeId, leaseMs }),
    dynamicGroupBuild({ store, clock, groups: services.dynamicGroups, holder: o.nodeId, leaseMs }),
    // Policy changes other instances (or feeds) recorded, to this one's connections (decision 0049); real time, like the outbox.
    policyChangeReconciler({ store, feed: services.policies.changes, clock: systemClock, log: engineLog }),
  ];
  for (const r of reconcilers) o.engine.add(r);
  services.jobDomain.workDue.listen(() => o.engine.poke());
  services.fleetIndex.onBuildDue = () => o.engine.poke();
  services.dynamicGroups.onBuildDue = () => o.engine.poke();

  // Fixtures (test-mode/seed.ts) through this region's services built on one transaction.
  const seeds = new SeedLoader({ ctx, servicesOn: (c) => createDomainServices(c, ports), settle: () => o.engine.step() });

  return {
    region: o.region,
    store,
    storage: database.storage,
    ctx,
    services,
    tags,
    sbomValidation,
    seeds,
    async close() {
      await services.jobServices.jobs.drain();
      await sbomValidation.close();
      await database.destroy();
    },
  };
}
