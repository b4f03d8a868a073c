import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { ControllableClock, systemClock, type Clock } from './clock.js';
import type { Config } from './config/config.js';
import { loadOrCreateCredentials, type Credentials } from './config/credentials.js';
import { Arns } from './domain/arns.js';
import { createDomainServices, type DomainPorts } from './domain/domain-services.js';
import { DEFAULT_LIMITS, type DomainContext, type Limits } from './domain/context.js';
import { MESSAGES as SHADOW_MESSAGES } from './domain/shadows/request-document.js';
import type { ShadowSettings } from './domain/shadows/shadow-settings.js';
import { noopJobNotifier, type JobNotifier } from './domain/jobs/job-notifications.js';
import type { JobsDataService } from './domain/jobs/jobs-data-service.js';
import { TagService } from './domain/tags/tag-service.js';
import type { RouteDefinition, ServiceApi } from './protocol/http/route.js';
import { createHttpDoor } from './protocol/http/server.js';
import type { ExternalBroker } from './protocol/mqtt/external-broker.js';
import { deviceRequestHandler } from './protocol/mqtt/mqtt-door.js';
import { MqttJobNotifier } from './protocol/mqtt/mqtt-notifier.js';
import { mqttShadowEvents } from './protocol/mqtt/shadow-mqtt.js';
import { startMqttDoor, type MqttDoor } from './protocol/mqtt/start-door.js';
import type { MqttTransport } from './protocol/mqtt/transport.js';
import { SigV4Verifier } from './protocol/http/sigv4.js';
import { jobsDataRoutes } from './protocol/jobs-data/jobs-data-routes.js';
import { shadowRoutes } from './protocol/iot-data/shadow-routes.js';
import { packageRoutes } from './protocol/iot/package-routes.js';
import { jobRoutes } from './protocol/iot/job-routes.js';
import { jobTemplateRoutes } from './protocol/iot/job-template-routes.js';
import { endpointRoutes } from './protocol/iot/endpoint-routes.js';
import { tagRoutes } from './protocol/iot/tag-routes.js';
import { thingRoutes } from './protocol/iot/thing-routes.js';
import { ObjectStoreJobDocumentSource, ObjectStoreJobDocumentUrls } from './objects/job-document-objects.js';
import { ObjectStoreLocationCheck } from './objects/object-location-check.js';
import { openObjectStorage } from './objects/object-storage.js';
import { s3Api } from './protocol/s3/s3-routes.js';
import { openDatabase } from './store/db.js';
import { migrateToLatest } from './store/migrations/index.js';
import { Store } from './store/store.js';
import { ClockControl } from './test-mode/clock-control.js';
import { motoResetRoutes, testModeRoutes, type TestModeFeatures } from './protocol/test-mode/test-mode-routes.js';
import { TestModeReset } from './test-mode/reset.js';
import { SeedLoader } from './test-mode/seed.js';
import { readSeedFile, SeedError } from './test-mode/seed-format.js';
import { forecastRoutes } from './protocol/iot/forecast-routes.js';
import { RolloutForecastService } from './domain/jobs/rollout-forecast.js';
import { Engine } from './workers/engine.js';
import { executionTimeouts, jobTicker, notificationOutbox } from './workers/job-reconcilers.js';
import { idempotencyPurge, jobDeletions, sbomValidations } from './workers/maintenance-reconcilers.js';
import { mqttSubscriberLease } from './workers/mqtt-subscriber-lease.js';
import { SbomValidationWorker, type SbomValidationSettings } from './workers/sbom-validation-worker.js';

export interface ServerOptions {
  config: Config;
  /** Domain time (timestamps, timers, rollouts). Tests pass a VirtualClock. */
  clock?: Clock;
  /** Time against which request signatures are checked; real clients sign with wall-clock time. */
  signatureClock?: Clock;
  logger?: Logger;
  /** PostgreSQL schema to live in (tests isolate each server this way). */
  databaseSchema?: string;
  limits?: Partial<Limits>;
  /** Device Shadow limits and windows (size, depth, tombstones, page size). */
  shadowSettings?: Partial<ShadowSettings>;
  /** Receives job notify / notify-next intents (jobs.md §10.3) until the MQTT door publishes them; tests record them. */
  jobNotifier?: JobNotifier;
  /** SBOM validation limits and concurrency (packages.md §9.7); defaults in sbom-validation-worker.ts. */
  sbomValidation?: Partial<SbomValidationSettings>;
}

export interface RunningServer {
  url: string;
  port: number;
  credentials?: Credentials;
  generatedCredentials: boolean;
  storage: string;
  store: Store;
  clock: Clock;
  /** The background SBOM validation; tests await `sbomValidation.idle()`. */
  sbomValidation: SbomValidationWorker;
  /** The rollout engine; tests call `step()`, or `advance(ms)` on a virtual clock. */
  engine: Engine;
  /** Where devices connect over MQTT (the embedded broker, or the external one), unless the door is off. */
  mqttUrl?: string;
  /** The embedded broker's port. */
  mqttPort?: number;
  /** The external broker's connection, in external-broker mode (tests read `serving`). */
  mqttBroker?: ExternalBroker;
  /** notify / notify-next over MQTT; tests await `idle()`. */
  mqttNotifications?: MqttJobNotifier;
  /** `--test-mode`'s controls, for the in-process API (src/testing.ts); the routes serve the same. */
  testMode?: TestModeFeatures;
  close(): Promise<void>;
}

/** Composition root: config → store → domain services → doors. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  // Test mode drives everything time-based from a clock users can move (issue 13).
  const controllable = config.testMode && !options.clock ? new ControllableClock() : undefined;
  const clock = options.clock ?? controllable ?? systemClock;
  const logger = options.logger ?? pino({ level: config.logLevel });

  const opened = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: options.databaseSchema });
  try {
    await migrateToLatest(opened.db, opened.dialect);
  } catch (err) {
    await opened.db.destroy();
    throw err;
  }
  const store = new Store(opened.db, opened.dialect);
  const arns = new Arns(config.region, config.accountId);
  const ctx: DomainContext = { store, clock, arns, limits: { ...DEFAULT_LIMITS, ...config.catalogQuotas, ...options.limits } };

  // Object storage: the embedded store (served below as an S3 subset) unless an external S3 is
  // configured. The catalog checks artifact and SBOM locations against it, as AWS does.
  const leaseMs = config.leaseMs;
  /** This process, as a holder of leases and as a client of an external broker. */
  const nodeId = randomUUID();
  const objects = await openObjectStorage({ config, store, clock, signatureClock: options.signatureClock ?? systemClock, credentials: () => credentials });
  const locationCheck = new ObjectStoreLocationCheck(objects.store);

  // SBOM validation runs in the background on its own threads (packages.md §9.8); it is started
  // after listen, resuming every validation a crash or shutdown left IN_PROGRESS.
  const sbomValidation = new SbomValidationWorker({
    store,
    objects: objects.store,
    logger: logger.child({ component: 'sbom-validation' }),
    tempDir: join(config.dataDir, 'tmp', 'sbom-validation'),
    // Test options override the operator's settings, which override the defaults.
    settings: { ...config.sbomValidation, ...options.sbomValidation },
    leaseMs,
  });
  const tags = new TagService(store, arns);

  // The MQTT door's publishing side exists before the broker does (the domain is wired first): its
  // transport is attached once the broker has started.
  let mqttTransport: MqttTransport | undefined;
  const mqttOn = config.mqttPort !== undefined || config.mqttBroker !== undefined;
  const mqttLog = logger.child({ component: 'mqtt' });
  let jobsDataForNotifier: JobsDataService | undefined;
  const mqttNotifier = mqttOn ? new MqttJobNotifier(() => jobsDataForNotifier!, clock, mqttLog) : undefined;

  // The domain (domain/domain-services.ts) and the ports it reaches out through. Every accepted
  // shadow change is published over MQTT, whichever door it came through; the MQTT door's notifier
  // publishes notify / notify-next; the object store serves job documents and their URLs.
  const ports: DomainPorts = {
    locationCheck,
    sbomQueue: sbomValidation,
    shadowEvents: mqttOn ? mqttShadowEvents((topic, payload) => mqttTransport?.publish(topic, payload)) : undefined,
    shadowSettings: { ...config.shadows, ...options.shadowSettings },
    jobNotifier: options.jobNotifier ?? mqttNotifier ?? noopJobNotifier,
    jobDocumentUrls: new ObjectStoreJobDocumentUrls(objects.store),
    jobDocumentSource: new ObjectStoreJobDocumentSource(objects.store),
    onJobDeletionFailure: (jobId, err, attempt) => logger.error({ err, jobId, attempt }, 'job deletion failed; it is retried, and resumed at the next start'),
  };
  const { catalog, registry, shadows, jobDomain, jobTemplates, jobServices, jobsData } = createDomainServices(ctx, ports);
  jobsDataForNotifier = jobsData;
  const jobNotifier = ports.jobNotifier;

  // Taggable resource types. AWS IoT does not tag things themselves (only thing groups, thing
  // types, billing groups, ...), so 'thing' is deliberately not a taggable type.
  tags.register('package', async (s, path) =>
    path.length === 1 ? (await s.packages.get(path[0])) !== undefined
      : path.length === 3 && path[1] === 'version' ? (await s.packageVersions.get(path[0], path[2])) !== undefined
        : false);
  tags.register('thinggroup', async (s, path) => path.length === 1 && (await s.thingGroups.get(path[0])) !== undefined);
  tags.register('thingtype', async (s, path) => path.length === 1 && (await s.thingTypes.get(path[0])) !== undefined);
  tags.register('job', async (s, path) => path.length === 1 && (await s.jobs.get(path[0])) !== undefined);
  tags.register('jobtemplate', async (s, path) => path.length === 1 && (await s.jobTemplates.get(path[0])) !== undefined);

  // The rollout engine: job ticks (releases, window edges, start and end times, abort sweeps) and
  // execution timeouts, as reconcilers that are safe on every node (decision 0013).
  const engine = new Engine(
    [
      jobTicker({ store, clock, rollout: jobDomain.rollout, leaseMs, log: logger.child({ component: 'engine' }) }),
      executionTimeouts({ store, bulk: jobDomain.bulk }),
      // The outbox's age is real time: it is about a process that died, not about domain time.
      notificationOutbox({ store, clock: systemClock, leaseMs, notifier: jobNotifier }),
      jobDeletions({ store, clock, jobs: jobServices.jobs, leaseMs, log: logger.child({ component: 'engine' }) }),
      sbomValidations({ store, worker: sbomValidation }),
      idempotencyPurge({ store, clock, holder: nodeId }),
    ],
    clock,
    logger.child({ component: 'engine' }),
  );
  jobDomain.workDue.listen(() => engine.poke());

  // The MQTT door starts once HTTP listens; test mode's reset disconnects its devices.
  let mqttDoor: MqttDoor | undefined;
  // Fixtures (test-mode/seed.ts): `--seed` fills an empty server before it listens; in test mode
  // `/_fleetjobs/seed` loads more, and a reset comes back to the start seed.
  const seeds = new SeedLoader({ ctx, servicesOn: (c) => createDomainServices(c, ports), settle: () => engine.step() });
  try {
    const startSeed = config.seedFile ? readSeedFile(config.seedFile) : undefined;
    if (startSeed && (await store.holdsResources())) {
      logger.info({ seed: config.seedFile }, 'seed not loaded: this data dir already holds resources (reset, or start on a fresh --data-dir)');
    } else if (startSeed) {
      await seeds.load(startSeed).catch((err: unknown) => {
        throw err instanceof SeedError ? new SeedError('', `seed file ${config.seedFile}: ${err.message}`) : err;
      });
    }
  } catch (err) {
    await objects.close();
    await opened.db.destroy();
    throw err;
  }
  const reset = controllable
    ? new TestModeReset({
      store,
      betweenSteps: (fn) => engine.exclusive(fn),
      drainJobDeletions: () => jobServices.jobs.drain(),
      abandonSbomValidations: () => sbomValidation.abandonAll(),
      removeAllObjects: () => objects.removeAllObjects(),
      disconnectDevices: async () => mqttDoor?.disconnectAll(),
      reseed: async () => {
        if (config.seedFile) await seeds.load(readSeedFile(config.seedFile));
      },
    })
    : undefined;
  const testMode = controllable && reset ? { clock: new ClockControl(controllable, engine), reset, seeds } : undefined;

  // Each feature adds its control-plane routes here; other planes add a ServiceApi to `apis`.
  // Known once the port is bound (port 0 picks one).
  let publicUrl: URL | undefined;
  const iotRoutes: RouteDefinition[] = [
    ...packageRoutes(catalog),
    ...tagRoutes(tags),
    ...thingRoutes(registry),
    ...jobRoutes(jobServices),
    ...jobTemplateRoutes(jobTemplates),
    ...endpointRoutes(() => publicUrl!),
    ...forecastRoutes(new RolloutForecastService(ctx)),
    ...(testMode ? testModeRoutes(testMode) : []),
  ];
  const apis: ServiceApi[] = [
    { signingNames: ['iot', 'execute-api'], badRequestError: 'InvalidRequestException', routes: iotRoutes },
    {
      signingNames: ['iotdata', 'iotdevicegateway'],
      badRequestError: 'InvalidRequestException',
      statusOverrides: { ThrottlingException: 429 },
      bodyTooLargeMessage: SHADOW_MESSAGES.tooLarge,
      routes: shadowRoutes(shadows),
    },
    { signingNames: ['iot-jobs-data'], badRequestError: 'InvalidRequestException', statusOverrides: { ThrottlingException: 429 }, routes: jobsDataRoutes(jobsData) },
  ];

  let credentials: Credentials | undefined;
  let generated = false;
  let verifier: SigV4Verifier | undefined;
  if (config.auth) {
    ({ credentials, generated } = loadOrCreateCredentials(config.dataDir, { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }));
    const known = credentials;
    verifier = new SigV4Verifier((id) => (id === known.accessKeyId ? known.secretAccessKey : undefined), options.signatureClock ?? systemClock, config.region);
  }

  if (objects.embedded) {
    // With an external S3 configured the embedded S3 API is not served.
    const known = credentials;
    apis.push(
      s3Api({
        ...objects.embedded,
        region: config.region,
        accountId: config.accountId,
        lookupSecret: known ? (id) => (id === known.accessKeyId ? known.secretAccessKey : undefined) : undefined,
      }),
    );
  }

  const server = createHttpDoor({
    apis,
    verifier,
    logger,
    maxJsonBodyBytes: config.maxJsonBodyBytes,
    defaultSigningName: 'iot',
    unsignedRoutes: reset ? motoResetRoutes(reset) : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });

  // The MQTT device door: the embedded broker, or an external one (protocol/mqtt/start-door.ts).
  let subscriberLease: ReturnType<typeof mqttSubscriberLease> | undefined;
  try {
    mqttDoor = await startMqttDoor({
      config,
      nodeId,
      thingExists: async (name) => (await store.things.get(name)) !== undefined,
      onRequest: deviceRequestHandler({ jobsData, shadows, notifier: mqttNotifier!, transport: () => mqttTransport!, clock, log: mqttLog }),
      log: mqttLog,
    });
    if (mqttDoor) {
      mqttTransport = mqttDoor.transport;
      mqttNotifier?.attach((topic, payload) => mqttTransport?.publish(topic, payload), mqttDoor.transport.listening);
    }
    if (mqttDoor?.external && !mqttDoor.external.shared) {
      // One node at a time subscribes to the device requests; the first look happens now, so a
      // lone node serves devices from its start.
      subscriberLease = mqttSubscriberLease({ store, clock, holder: nodeId, leaseMs, subscriber: mqttDoor.external, log: mqttLog });
      engine.add(subscriberLease);
      await subscriberLease.run();
    }
  } catch (err) {
    await mqttDoor?.close().catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await opened.db.destroy();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Presigned URLs must name an address devices can reach: never a wildcard bind address.
  const reachableHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : host;
  const baseUrl = config.publicUrl ?? `http://${reachableHost}:${port}`;
  publicUrl = new URL(baseUrl);
  objects.setBaseUrl(baseUrl);
  await sbomValidation.start();

  engine.start();

  let closed = false;
  return {
    url: `http://${host}:${port}`,
    ...(mqttDoor ? { mqttUrl: mqttDoor.url } : {}),
    ...(mqttDoor?.port !== undefined ? { mqttPort: mqttDoor.port } : {}),
    ...(mqttDoor?.external ? { mqttBroker: mqttDoor.external } : {}),
    ...(mqttNotifier ? { mqttNotifications: mqttNotifier } : {}),
    ...(testMode ? { testMode } : {}),
    port,
    credentials,
    generatedCredentials: generated,
    storage: `${opened.dialect} ${opened.location}`,
    store,
    clock,
    sbomValidation,
    engine,
    async close() {
      if (closed) return;
      closed = true;
      await engine.stop();
      await subscriberLease?.release();
      await mqttDoor?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await jobServices.jobs.drain();
      await sbomValidation.close();
      await objects.close();
      await opened.db.destroy();
    },
  };
}
