import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/config.js';
import { loadOrCreateCredentials, type Credentials } from './config/credentials.js';
import { Arns } from './domain/arns.js';
import { DEFAULT_LIMITS, type DomainContext, type Limits } from './domain/context.js';
import { acceptAnyLocation } from './domain/packages/object-check.js';
import { PackageConfigurationService } from './domain/packages/package-configuration.js';
import { PackageService } from './domain/packages/package-service.js';
import type { SbomValidationQueue } from './domain/packages/sbom-service.js';
import { SbomService } from './domain/packages/sbom-service.js';
import { PackageVersionService } from './domain/packages/version-service.js';
import { TagService } from './domain/tags/tag-service.js';
import type { RouteDefinition, ServiceApi } from './protocol/http/route.js';
import { createHttpDoor } from './protocol/http/server.js';
import { SigV4Verifier } from './protocol/http/sigv4.js';
import { packageRoutes } from './protocol/iot/package-routes.js';
import { tagRoutes } from './protocol/iot/tag-routes.js';
import { openDatabase } from './store/db.js';
import { migrateToLatest } from './store/migrations/index.js';
import { Store } from './store/store.js';

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
}

export interface RunningServer {
  url: string;
  port: number;
  credentials?: Credentials;
  generatedCredentials: boolean;
  storage: string;
  store: Store;
  clock: Clock;
  close(): Promise<void>;
}

/** Composition root: config → store → domain services → doors. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
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
  const ctx: DomainContext = { store, clock, arns, limits: { ...DEFAULT_LIMITS, ...options.limits } };

  // SBOM validation is a later capability; associations wait IN_PROGRESS until it lands.
  const sbomQueue: SbomValidationQueue = { enqueue: () => undefined };
  const catalog = {
    packages: new PackageService(ctx),
    versions: new PackageVersionService(ctx, acceptAnyLocation),
    sboms: new SbomService(ctx, acceptAnyLocation, sbomQueue),
    configuration: new PackageConfigurationService(ctx),
  };
  const tags = new TagService(store, arns);
  tags.register('package', async (s, path) =>
    path.length === 1 ? (await s.packages.get(path[0])) !== undefined
      : path.length === 3 && path[1] === 'version' ? (await s.packageVersions.get(path[0], path[2])) !== undefined
        : false);

  // Each feature adds its control-plane routes here; other planes add a ServiceApi to `apis`.
  const iotRoutes: RouteDefinition[] = [...packageRoutes(catalog), ...tagRoutes(tags)];
  const apis: ServiceApi[] = [{ signingNames: ['iot', 'execute-api'], badRequestError: 'InvalidRequestException', routes: iotRoutes }];

  let credentials: Credentials | undefined;
  let generated = false;
  let verifier: SigV4Verifier | undefined;
  if (config.auth) {
    ({ credentials, generated } = loadOrCreateCredentials(config.dataDir, { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }));
    const known = credentials;
    verifier = new SigV4Verifier((id) => (id === known.accessKeyId ? known.secretAccessKey : undefined), options.signatureClock ?? systemClock);
  }

  const server = createHttpDoor({ apis, verifier, logger, maxJsonBodyBytes: config.maxJsonBodyBytes, defaultSigningName: 'iot' });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closed = false;
  return {
    url: `http://${host}:${port}`,
    port,
    credentials,
    generatedCredentials: generated,
    storage: `${opened.dialect} ${opened.location}`,
    store,
    clock,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await opened.db.destroy();
    },
  };
}
