import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createLogger } from './log.js';
import { ControllableClock, systemClock, type Clock } from './clock.js';
import { servesRegion, type Config } from './config/config.js';
import { loadOrCreateCredentials, type Credentials, type CredentialsHome } from './config/credentials.js';
import type { Limits } from './domain/context.js';
import { noopJobNotifier, type JobNotifier } from './domain/jobs/job-notifications.js';
import type { JobsDataService } from './domain/jobs/jobs-data-service.js';
import type { ShadowSettings } from './domain/shadows/shadow-settings.js';
import { openObjectStorage } from './objects/object-storage.js';
import type { ServiceApi } from './protocol/http/route.js';
import { createHttpDoor } from './protocol/http/server.js';
import { requestThrottle } from './protocol/http/request-throttle.js';
import { SigV4Verifier } from './protocol/http/sigv4.js';
import { openDeviceSecurity } from './device-security.js';
import type { ExternalBroker } from './protocol/mqtt/external-broker.js';
import { deviceRequestHandler } from './protocol/mqtt/mqtt-door.js';
import { MqttJobNotifier } from './protocol/mqtt/mqtt-notifier.js';
import { mqttShadowEvents } from './protocol/mqtt/shadow-mqtt.js';
import { startMqttDoor, type MqttDoor } from './protocol/mqtt/start-door.js';
import type { MqttTransport } from './protocol/mqtt/transport.js';
import { s3Api } from './protocol/s3/s3-routes.js';
import { motoResetRoutes, type TestModeFeatures } from './protocol/test-mode/test-mode-routes.js';
import { createRegionCell, openRegionDatabase, type RegionCell } from './region-cell.js';
import { serviceApis } from './service-apis.js';
import { RegionCells } from './region-cells.js';
import type { Store } from './store/store.js';
import { ClockControl } from './test-mode/clock-control.js';
import { TestModeReset } from './test-mode/reset.js';
import { readSeedFile, SeedError } from './test-mode/seed-format.js';
import { ServerMetrics } from './metrics/metrics.js';
import { readyRoute, startMetricsListener, type OperatorSources } from './protocol/http/operator-routes.js';
import { lockDataDir } from './store/data-dir-lock.js';
import { migrationsApplied } from './store/metrics-queries.js';
import { MIGRATION_COUNT } from './store/migrations/index.js';
import { Engine } from './workers/engine.js';
import { mqttSubscriberLease } from './workers/mqtt-subscriber-lease.js';
import type { SbomValidationSettings, SbomValidationWorker } from './workers/sbom-validation-worker.js';

export interface ServerOptions {
  config: Config;
  /** Domain time (timestamps, timers, rollouts). Tests pass a VirtualClock. */
  clock?: Clock;
  /** Time against which request signatures are checked; real clients sign with wall-clock time. */
  signatureClock?: Clock;
  /** Time against which rates are counted (--throttle, the MQTT limits): the wall clock unless a test moves it. */
  rateClock?: Clock;
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
  /** A start seed given as an object (fleetjobs/testing), in place of `--seed FILE`. */
  seed?: Record<string, unknown>;
}

export interface RunningServer {
  url: string;
  port: number;
  credentials?: Credentials;
  generatedCredentials: boolean;
  /** Where the generated (or first stored) key pair lives. */
  credentialsKeptIn: CredentialsHome;
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
  /** The MQTT TLS listener (with TLS on), and the generated CA devices trust. */
  mqttTlsUrl?: string;
  mqttTlsPort?: number;
  tlsCaFile?: string;
  /** The external broker's connection, in external-broker mode (tests read `serving`). */
  mqttBroker?: ExternalBroker;
  /** notify / notify-next over MQTT; tests await `idle()`. */
  mqttNotifications?: MqttJobNotifier;
  /** The `--metrics-port` listener's port. */
  metricsPort?: number;
  /** `--test-mode`'s controls, for the in-process API (src/testing.ts); the routes serve the same. */
  testMode?: TestModeFeatures;
  close(): Promise<void>;
}

/** Composition root: config → regions (store → domain services) → doors → workers. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  // Test mode drives everything time-based from a clock users can move (issue 13).
  const controllable = config.testMode && !options.clock ? new ControllableClock() : undefined;
  const clock = options.clock ?? controllable ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel, config.logFormat);
  /** This process, as a holder of leases and as a client of an external broker. */
  const nodeId = randomUUID();
  // One engine runs every region's reconcilers (region-cell.ts adds them), so one clock advance
  // goes through every region's due moments in order.
  const engine = new Engine([], clock, logger.child({ component: 'engine' }));
  const metrics = new ServerMetrics();

  // One server per SQLite data dir; PostgreSQL takes several (their work is claimed with leases).
  const lock = config.databaseUrl ? undefined : lockDataDir(config.dataDir);
  // The home region's database comes first: object storage keeps its metadata there.
  let homeDb: Awaited<ReturnType<typeof openRegionDatabase>>;
  try {
    homeDb = await openRegionDatabase(config, config.region, options.databaseSchema);
  } catch (err) {
    lock?.release();
    throw err;
  }
  // TLS material and the device CA (device-security.ts); a CA other instances on the database do not share refuses the start.
  const security = await openDeviceSecurity(config, homeDb.store, () => clock.now(), logger).catch(async (err: unknown) => {
    await homeDb.destroy();
    lock?.release();
    throw err;
  });
  let credentials: Credentials | undefined;
  // Object storage: the embedded store (served below as an S3 subset) unless an external S3 is
  // configured. Every region checks artifact and SBOM locations against it, as AWS does.
  const objects = await openObjectStorage({ config, store: homeDb.store, clock, signatureClock: options.signatureClock ?? systemClock, credentials: () => credentials }).catch(async (err: unknown) => {
    await homeDb.destroy();
    throw err;
  });

  // The MQTT door's publishing side exists before the broker does (the domain is wired first): its
  // transport is attached once the broker has started. Devices on MQTT belong to the home region.
  let mqttTransport: MqttTransport | undefined;
  const mqttOn = config.mqttPort !== undefined || config.mqttBroker !== undefined;
  const mqttLog = logger.child({ component: 'mqtt' });
  let jobsDataForNotifier: JobsDataService | undefined;
  const mqttNotifier = mqttOn ? new MqttJobNotifier(() => jobsDataForNotifier!, clock, mqttLog) : undefined;
  const cellOptions = { config, objects, clock, engine, logger, nodeId, metrics, limits: options.limits, shadowSettings: options.shadowSettings, sbomValidation: options.sbomValidation, deviceCa: security.material.deviceCa };
  const home = createRegionCell({
    ...cellOptions,
    region: config.region,
    database: homeDb,
    jobNotifier: options.jobNotifier ?? mqttNotifier ?? noopJobNotifier,
    certificateEvents: security.events,
    // Every accepted shadow change is published over MQTT, whichever door it came through.
    shadowEvents: mqttOn ? mqttShadowEvents((topic, payload) => mqttTransport?.publish(topic, payload)) : undefined,
  });
  const { store } = home;
  const { jobsData, shadows } = home.services;
  jobsDataForNotifier = jobsData;

  // Other regions (--regions), each on its own database, opened on their first request.
  const cells = new RegionCells(
    home,
    (region) => servesRegion(config, region),
    async (region) => createRegionCell({ ...cellOptions, region, database: await openRegionDatabase(config, region, options.databaseSchema), jobNotifier: noopJobNotifier }),
    logger,
  );
  const allCells = () => cells.all();
  // A listed region is opened at start, so a bad database setting fails the start, not a request.
  if (config.regions !== '*') for (const r of config.regions) await cells.get(r);

  // The MQTT door starts once HTTP listens; test mode's reset disconnects its devices.
  let mqttDoor: MqttDoor | undefined;
  const closeStorage = async () => {
    for (const c of await allCells()) await c.close();
    await objects.close();
    lock?.release();
  };
  // Fixtures: `--seed` fills an empty home region before the server listens (decision 0016). The
  // file is read once: a reset comes back to the seed the server started with.
  let startSeed: unknown;
  try {
    startSeed = options.seed ?? (config.seedFile ? readSeedFile(config.seedFile) : undefined);
    if (startSeed && (await store.holdsResources())) {
      logger.info({ seed: config.seedFile }, 'seed not loaded: this data dir already holds resources (reset, or start on a fresh --data-dir)');
    } else if (startSeed) {
      await home.seeds.load(startSeed).catch((err: unknown) => {
        throw err instanceof SeedError && config.seedFile && !options.seed ? new SeedError('', `seed file ${config.seedFile}: ${err.message}`) : err;
      });
    }
  } catch (err) {
    await closeStorage();
    throw err;
  }
  const reset = controllable
    ? new TestModeReset({
      betweenSteps: (fn) => engine.exclusive(fn),
      quiesce: async () => {
        for (const c of await allCells()) {
          await c.services.jobServices.jobs.drain();
          await c.sbomValidation.abandonAll();
        }
        // Notifications built from what is about to go are sent (or dropped with their session) first.
        await mqttNotifier?.idle();
      },
      wipeDatabases: async () => {
        for (const c of await allCells()) await c.store.wipeResources();
      },
      removeAllObjects: () => objects.removeAllObjects(),
      disconnectDevices: async () => mqttDoor?.disconnectAll(),
      reseed: async () => {
        if (startSeed) await home.seeds.load(startSeed);
      },
    })
    : undefined;
  const clockControl = controllable ? new ClockControl(controllable, engine) : undefined;

  let verifier: SigV4Verifier | undefined;
  let generated = false;
  let credentialsKeptIn: CredentialsHome = 'data-dir';
  if (config.auth) {
    // With PostgreSQL the pair lives in the home region's database, shared by every instance (decision 0024).
    const database = config.databaseUrl ? { store: homeDb.store.serverCredentials, now: clock.now() } : undefined;
    ({ credentials, generated, keptIn: credentialsKeptIn } = await loadOrCreateCredentials(config.dataDir, { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }, database));
    const known = credentials;
    const served = config.regions === '*' ? `'${config.region}' and any other region` : [config.region, ...config.regions].map((r) => `'${r}'`).join(', ');
    verifier = new SigV4Verifier((id) => (id === known.accessKeyId ? known.secretAccessKey : undefined), options.signatureClock ?? systemClock, { serves: (r) => servesRegion(config, r), served });
  }
  // With an external S3 configured the embedded S3 API is not served; one bucket namespace for all regions.
  const known = credentials;
  const s3 = objects.embedded
    ? s3Api({ ...objects.embedded, region: config.region, accountId: config.accountId, lookupSecret: known ? (id) => (id === known.accessKeyId ? known.secretAccessKey : undefined) : undefined })
    : undefined;

  // What operators' tools ask: /metrics (signed for iot), /ready (unsigned, beside /health).
  const operator: OperatorSources = {
    metrics,
    async notReady() {
      for (const c of await allCells()) {
        const which = `the database${c.region === config.region ? '' : ` of ${c.region}`}`;
        const applied = await withTimeout(migrationsApplied(c.store.db), 2000).catch((err: Error) => err);
        if (applied instanceof Error) return `${which} does not answer: ${applied.message}`;
        if (applied < MIGRATION_COUNT) return `${which} holds ${applied} of ${MIGRATION_COUNT} migrations`;
      }
      return undefined;
    },
  };

  // The public URL is known once the port is bound.
  let publicUrl: URL | undefined;
  const apisOf = (cell: RegionCell): ServiceApi[] =>
    serviceApis(cell, { publicUrl: () => publicUrl!, operator, s3, testMode: clockControl && reset ? { clock: clockControl, reset } : undefined });

  // Devices: one authorization (policies, --default-device-policy) for every listener.
  const authorization = home.services.policies.deviceAuthorization(config.defaultDevicePolicy);
  const identities = security.identities(home.ctx, authorization);
  const homeApis = apisOf(home);
  // A rates file naming no served operation is refused before anything listens.
  const throttle = await Promise.resolve().then(() => requestThrottle(config.throttle, homeApis, options.rateClock ?? systemClock)).catch(async (err: unknown) => {
    await closeStorage();
    throw err;
  });
  const server = createHttpDoor({
    tls: security.context,
    deviceCertificates: identities.http,
    apis: homeApis,
    throttle,
    homeRegion: config.region,
    servesRegion: (region) => servesRegion(config, region),
    regionApis: async (region) => {
      const cell = cells.get(region);
      return cell ? apisOf(await cell) : undefined;
    },
    verifier,
    logger,
    maxJsonBodyBytes: config.maxJsonBodyBytes,
    defaultSigningName: 'iot',
    unsignedRoutes: [readyRoute(operator), ...(reset ? motoResetRoutes(reset) : [])],
    onRequestDone: (rec, status, ms) => metrics.request(rec.api, rec.operation, status, ms),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await closeStorage();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw Object.assign(new Error(`port ${config.port} on ${config.host} is in use: pick another with --port (FLEETJOBS_PORT), or --port 0 for any free one`), { code: 'EADDRINUSE' });
    }
    throw err;
  }

  // --metrics-port: /metrics unsigned, for an address only monitoring reaches.
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  // The MQTT device door: the embedded broker, or an external one (protocol/mqtt/start-door.ts).
  let subscriberLease: ReturnType<typeof mqttSubscriberLease> | undefined;
  try {
    if (config.metricsPort !== undefined) metricsListener = await startMetricsListener(config.host, config.metricsPort, operator);
    mqttDoor = await startMqttDoor({
      config,
      nodeId,
      authorization,
      onRequest: deviceRequestHandler({ jobsData, shadows, notifier: mqttNotifier!, transport: () => mqttTransport!, clock, log: mqttLog, throttle }),
      log: mqttLog,
      onConnectivity: (thing, event) => void home.services.fleetIndex.recordConnectivity(thing, event).catch((err: unknown) => mqttLog.error({ err, thing }, 'connectivity not recorded')),
      tls: identities.mqtt,
      rateClock: options.rateClock ?? systemClock,
      http: { server, verifier },
    });
    security.attachDoor(mqttDoor, engine, home.ctx);
    if (mqttDoor) {
      const door = mqttDoor;
      metrics.setMqtt({ stats: () => door.stats() });
      mqttTransport = mqttDoor.transport;
      mqttNotifier?.attach((topic, payload) => mqttTransport?.publish(topic, payload), mqttDoor.transport.listening);
    }
    if (mqttDoor?.external && !mqttDoor.external.shared) {
      // One node at a time subscribes to the device requests; the first look happens now, so a
      // lone node serves devices from its start.
      subscriberLease = mqttSubscriberLease({ store, clock, holder: nodeId, leaseMs: config.leaseMs, subscriber: mqttDoor.external, log: mqttLog });
      engine.add(subscriberLease);
      await subscriberLease.run();
    }
  } catch (err) {
    await metricsListener?.close();
    await mqttDoor?.close().catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await closeStorage();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Presigned URLs must name an address devices can reach: never a wildcard bind address.
  const reachableHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : host;
  const scheme = security.context ? 'https' : 'http';
  const baseUrl = config.publicUrl ?? `${scheme}://${reachableHost}:${port}`;
  publicUrl = new URL(baseUrl);
  objects.setBaseUrl(baseUrl);
  await cells.start();

  engine.start();

  let closed = false;
  return {
    url: `${scheme}://${host}:${port}`,
    ...(mqttDoor ? { mqttUrl: mqttDoor.url } : {}),
    ...(mqttDoor?.tlsPort !== undefined ? { mqttTlsUrl: mqttDoor.tlsUrl, mqttTlsPort: mqttDoor.tlsPort } : {}),
    ...(security.material.generatedCaFile ? { tlsCaFile: security.material.generatedCaFile } : {}),
    ...(mqttDoor?.port !== undefined ? { mqttPort: mqttDoor.port } : {}),
    ...(mqttDoor?.external ? { mqttBroker: mqttDoor.external } : {}),
    ...(mqttNotifier ? { mqttNotifications: mqttNotifier } : {}),
    ...(metricsListener ? { metricsPort: metricsListener.port } : {}),
    ...(clockControl && reset ? { testMode: { clock: clockControl, reset, seeds: home.seeds } } : {}),
    port,
    credentials,
    generatedCredentials: generated,
    credentialsKeptIn,
    storage: home.storage,
    store,
    clock,
    sbomValidation: home.sbomValidation,
    engine,
    async close() {
      if (closed) return;
      closed = true;
      await engine.stop();
      await subscriberLease?.release();
      await mqttDoor?.close();
      await metricsListener?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await closeStorage();
    },
  };
}

/** `p`, or a rejection once `ms` have passed (a database that does not answer is not ready). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
