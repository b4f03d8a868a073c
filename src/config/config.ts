import { resolveTlsConfig, type DeviceCaConfig, type TlsConfig, type TlsFlags } from './tls-config.js';
import { DEFAULT_DEVICE_POLICIES, type DefaultDevicePolicy } from '../domain/policies/default-policies.js';
import { resolveThrottle, ThrottleFileError, type ThrottleLimit } from './throttle-config.js';

/**
 * Settings, resolved once: command-line flag, else FLEETJOBS_* environment variable, else the
 * embedded default. Nothing else in the code reads process.env.
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Undefined means the embedded SQLite file in the data dir. */
  databaseUrl?: string;
  region: string;
  accountId: string;
  auth: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Largest request body accepted on the JSON APIs, in bytes. */
  maxJsonBodyBytes: number;
  logLevel: string;
  /** `--metrics-port`: an unsigned `/metrics` listener on the host (for an internal address); none by default. */
  metricsPort?: number;
  /** `--log-format`: json lines, pino-pretty's, or auto (pretty on a terminal). */
  logFormat: 'json' | 'pretty' | 'auto';
  /** `--default-device-policy`: what a device principal with no policy attached may do (decision 0035). */
  defaultDevicePolicy: DefaultDevicePolicy;
  /**
   * The origin devices reach this server at (http(s)://host[:port]); presigned download URLs point
   * there. Defaults to the bound address (127.0.0.1 when bound to every interface).
   */
  publicUrl?: string;
  /**
   * An external S3 service for artifacts, SBOMs and job documents. When set, the embedded S3
   * subset is not served and objects are read from (and presigned for) this service.
   */
  s3?: S3Config;
  /** SBOM validation limits the operator set; unset ones keep the worker's defaults (sbom-validation-worker.ts). */
  sbomValidation?: SbomValidationConfig;
  /** Device Shadow limits the operator set; unset ones keep the defaults (shadow-settings.ts). */
  shadows?: ShadowConfig;
  /** Catalog quotas the operator set; unset ones keep the defaults (domain/context.ts). */
  catalogQuotas?: CatalogQuotaConfig;
  /** `--index-build-delay-ms`: a fleet index build is reported BUILDING at least this long (tests; default 0). */
  indexBuildDelayMs?: number;
  /**
   * How long a claim on background work lasts (the rollout engine's job claims; the MQTT door's
   * external-broker lease). Work a node claimed and did not finish is taken over after this.
   */
  leaseMs: number;
  /** `--test-mode`: a controllable clock and the `/_fleetjobs/` endpoints (issue 13). */
  testMode: boolean;
  /** `--seed FILE`: fixtures (JSON or YAML) loaded into an empty server at start (decision 0016). */
  seedFile?: string;
  /**
   * `--regions`: the regions served besides `region` (the home region), each with resources of
   * its own (decision 0017); '*' serves any region a request is signed for. Empty by default.
   */
  regions: string[] | '*';
  /**
   * The MQTT device door: the embedded broker's port (0 = any free one). Undefined with --no-mqtt,
   * and with an external broker.
   */
  mqttPort?: number;
  /** `--mqtt-url`: serve the device topics through this broker instead of embedding one. */
  mqttBroker?: ExternalBrokerConfig;
  /** The embedded broker listens beyond loopback without device authentication (a warning at start). */
  mqttExposed?: boolean;
  /** `--tls` / `--tls-cert`: HTTPS on the HTTP port and the MQTT TLS listener (tls-config.ts). */
  tls?: TlsConfig;
  /** `--device-ca-cert` / `--device-ca-key`: the CA that signs device certificates, else the generated one. */
  deviceCa?: DeviceCaConfig;
  /** `--throttle aws|FILE`: per-operation rate limits (throttle-config.ts); absent with `off`, the default. */
  throttle?: { source: 'aws' | 'file'; limits: ThrottleLimit[] };
}

export interface ExternalBrokerConfig {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  username?: string;
  password?: string;
}

export interface CatalogQuotaConfig {
  maxPackages?: number;
  maxVersionsPerPackage?: number;
}

export interface SbomValidationConfig {
  maxArchiveBytes?: number;
  maxFileBytes?: number;
  maxEntries?: number;
  maxConcurrentValidations?: number;
  maxQueuedValidations?: number;
}

export interface ShadowConfig {
  maxStateBytes?: number;
  maxDepth?: number;
  tombstoneMs?: number;
}

export interface S3Config {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

export interface ConfigFlags extends TlsFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
  databaseUrl?: string;
  region?: string;
  regions?: string;
  logFormat?: string;
  defaultDevicePolicy?: string;
  metricsPort?: string | number;
  accountId?: string;
  auth?: boolean;
  logLevel?: string;
  publicUrl?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  s3ForcePathStyle?: boolean;
  sbomMaxArchiveBytes?: string | number;
  sbomMaxFileBytes?: string | number;
  sbomMaxEntries?: string | number;
  sbomMaxConcurrentValidations?: string | number;
  sbomMaxQueuedValidations?: string | number;
  shadowMaxStateBytes?: string | number;
  shadowMaxDepth?: string | number;
  shadowTombstoneSeconds?: string | number;
  indexBuildDelayMs?: string | number;
  maxPackages?: string | number;
  maxVersionsPerPackage?: string | number;
  leaseSeconds?: string | number;
  testMode?: boolean;
  testModeAnyHost?: boolean;
  seed?: string;
  mqttPort?: string | number;
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  /** commander's `--no-mqtt` sets this false. */
  mqtt?: boolean;
  throttle?: string;
}

export class ConfigError extends Error {}

/** Whether a request signed for `region` is served (the home region, `--regions`, or any with '*'). */
export function servesRegion(config: Pick<Config, 'region' | 'regions'>, region: string): boolean {
  // With '*', a name shaped like AWS's (the longest today has 14 characters; 25 leaves room).
  return region === config.region || (config.regions === '*' ? region.length <= 25 && REGION.test(region) : config.regions.includes(region));
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
/** pino's levels; anything else makes the logger throw at start. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | number | undefined, name: string): string | undefined =>
    flag !== undefined ? String(flag) : env[`FLEETJOBS_${name}`] || undefined;
  const throttle = throttleOf(pick(flags.throttle, 'THROTTLE'));

  const portText = pick(flags.port, 'PORT') ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${portText}`);

  const region = pick(flags.region, 'REGION') ?? 'us-east-1';
  if (!REGION.test(region)) throw new ConfigError(`invalid region: ${region}`);
  const regionsText = pick(flags.regions, 'REGIONS');
  let regions: string[] | '*' = [];
  if (regionsText !== undefined && regionsText.trim() === '*') regions = '*';
  else if (regionsText !== undefined) {
    const listed = regionsText.split(',').map((r) => r.trim()).filter((r) => r !== '');
    const bad = listed.find((r) => !REGION.test(r));
    if (bad !== undefined || listed.length === 0) throw new ConfigError(`invalid --regions: ${regionsText} (a comma-separated list such as us-east-1,eu-west-1, or '*')`);
    regions = [...new Set(listed)].filter((r) => r !== region);
  }
  const accountId = pick(flags.accountId, 'ACCOUNT_ID') ?? '123456789012';
  if (!ACCOUNT.test(accountId)) throw new ConfigError(`invalid account id (12 digits): ${accountId}`);

  const databaseUrl = pick(flags.databaseUrl, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`unsupported database URL (postgres://... expected): ${databaseUrl}`);
  }
  const noAuthEnv = env.FLEETJOBS_NO_AUTH === '1' || env.FLEETJOBS_NO_AUTH === 'true';
  const accessKeyId = env.FLEETJOBS_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.FLEETJOBS_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('set both FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY, or neither');
  }
  const truthy = (v: string | undefined) => v === '1' || v === 'true';
  const testMode = flags.testMode === true || truthy(env.FLEETJOBS_TEST_MODE);
  const host = pick(flags.host, 'HOST') ?? '127.0.0.1';
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host);
  if (testMode && !loopback && !(flags.testModeAnyHost === true || truthy(env.FLEETJOBS_TEST_MODE_ANY_HOST))) {
    throw new ConfigError(`test mode lets anyone with the key move the clock: it binds only to loopback, not ${host} (add --test-mode-any-host to allow it)`);
  }
  const mqttOn = flags.mqtt !== false && !truthy(env.FLEETJOBS_NO_MQTT);
  const mqttBroker = externalBroker(pick(flags.mqttUrl, 'MQTT_URL'), pick(flags.mqttUsername, 'MQTT_USERNAME'), pick(flags.mqttPassword, 'MQTT_PASSWORD'));
  const mqttPortGiven = pick(flags.mqttPort, 'MQTT_PORT');
  if (mqttBroker && mqttPortGiven !== undefined) {
    throw new ConfigError(
      '--mqtt-port (FLEETJOBS_MQTT_PORT) is the embedded broker\'s port, and --mqtt-url (FLEETJOBS_MQTT_URL) replaces the embedded broker with an external one: give one of them',
    );
  }
  const mqttPortText = mqttPortGiven ?? '1883';
  const mqttPort = Number(mqttPortText);
  if (!/^\d+$/.test(mqttPortText) || mqttPort > 65535) throw new ConfigError(`invalid MQTT port: ${mqttPortText}`);
  const logLevel = pick(flags.logLevel, 'LOG_LEVEL') ?? 'info';
  const logFormat = pick(flags.logFormat, 'LOG_FORMAT') ?? 'auto';
  const metricsPortText = pick(flags.metricsPort, 'METRICS_PORT');
  const metricsPort = metricsPortText === undefined ? undefined : Number(metricsPortText);
  if (metricsPort !== undefined && (!/^\d+$/.test(metricsPortText!) || metricsPort > 65535)) throw new ConfigError(`invalid metrics port: ${metricsPortText}`);
  if (logFormat !== 'json' && logFormat !== 'pretty' && logFormat !== 'auto') throw new ConfigError(`invalid log format: ${logFormat} (json, pretty or auto)`);
  const defaultDevicePolicy = (pick(flags.defaultDevicePolicy, 'DEFAULT_DEVICE_POLICY') ?? 'own-thing') as DefaultDevicePolicy;
  if (!DEFAULT_DEVICE_POLICIES.includes(defaultDevicePolicy)) throw new ConfigError(`invalid default device policy: ${defaultDevicePolicy} (aws or own-thing)`);
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`invalid log level: ${logLevel} (one of ${LOG_LEVELS.join(', ')})`);

  const publicUrl = pick(flags.publicUrl, 'PUBLIC_URL')?.replace(/\/+$/, '');
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#]+$/.test(publicUrl)) {
    throw new ConfigError(`invalid public URL (http(s)://host[:port] without a path expected): ${publicUrl}`);
  }
  const s3Endpoint = pick(flags.s3Endpoint, 'S3_ENDPOINT');
  if (s3Endpoint !== undefined && !/^https?:\/\/[^/]+/.test(s3Endpoint)) throw new ConfigError(`invalid S3 endpoint (http(s)://host[:port] expected): ${s3Endpoint}`);
  const s3Region = pick(flags.s3Region, 'S3_REGION');
  if (s3Region !== undefined && !REGION.test(s3Region)) throw new ConfigError(`invalid S3 region: ${s3Region}`);
  const s3AccessKeyId = pick(flags.s3AccessKeyId, 'S3_ACCESS_KEY_ID');
  const s3SecretAccessKey = pick(flags.s3SecretAccessKey, 'S3_SECRET_ACCESS_KEY');
  if ((s3AccessKeyId === undefined) !== (s3SecretAccessKey === undefined)) throw new ConfigError('give both the S3 access key id and the S3 secret access key, or neither');
  const pathStyleEnv = env.FLEETJOBS_S3_FORCE_PATH_STYLE === '1' || env.FLEETJOBS_S3_FORCE_PATH_STYLE === 'true';
  // An external S3 is configured by naming its endpoint or its region (real AWS S3 needs no endpoint).
  if (s3Endpoint === undefined && s3Region === undefined && (s3AccessKeyId !== undefined || flags.s3ForcePathStyle === true || pathStyleEnv)) {
    throw new ConfigError('the S3 credentials and path-style settings need --s3-endpoint or --s3-region (FLEETJOBS_S3_ENDPOINT / FLEETJOBS_S3_REGION)');
  }
  const s3: S3Config | undefined =
    s3Endpoint !== undefined || s3Region !== undefined
      ? {
          ...(s3Endpoint !== undefined ? { endpoint: s3Endpoint } : {}),
          region: s3Region ?? region,
          ...(s3AccessKeyId !== undefined ? { accessKeyId: s3AccessKeyId, secretAccessKey: s3SecretAccessKey } : {}),
          forcePathStyle: flags.s3ForcePathStyle === true || pathStyleEnv,
        }
      : undefined;

  // Positive whole numbers; an unset one is left out so the component's own default applies.
  const positive = (flag: string | number | undefined, name: string, option: string, scale = 1): number | undefined => {
    const text = pick(flag, name)?.trim();
    if (text === undefined) return undefined;
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value * scale) || value < 1) {
      throw new ConfigError(`invalid ${option} (FLEETJOBS_${name}): ${text} (a positive whole number expected)`);
    }
    return value * scale;
  };
  const defined = <T extends object>(o: T): T | undefined => {
    const kept = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
    return Object.keys(kept).length > 0 ? kept : undefined;
  };
  const sbomValidation = defined<SbomValidationConfig>({
    maxArchiveBytes: positive(flags.sbomMaxArchiveBytes, 'SBOM_MAX_ARCHIVE_BYTES', '--sbom-max-archive-bytes'),
    maxFileBytes: positive(flags.sbomMaxFileBytes, 'SBOM_MAX_FILE_BYTES', '--sbom-max-file-bytes'),
    maxEntries: positive(flags.sbomMaxEntries, 'SBOM_MAX_ENTRIES', '--sbom-max-entries'),
    maxConcurrentValidations: positive(flags.sbomMaxConcurrentValidations, 'SBOM_MAX_CONCURRENT_VALIDATIONS', '--sbom-max-concurrent-validations'),
    maxQueuedValidations: positive(flags.sbomMaxQueuedValidations, 'SBOM_MAX_QUEUED_VALIDATIONS', '--sbom-max-queued-validations'),
  });
  const shadows = defined<ShadowConfig>({
    maxStateBytes: positive(flags.shadowMaxStateBytes, 'SHADOW_MAX_STATE_BYTES', '--shadow-max-state-bytes'),
    maxDepth: positive(flags.shadowMaxDepth, 'SHADOW_MAX_DEPTH', '--shadow-max-depth'),
    tombstoneMs: positive(flags.shadowTombstoneSeconds, 'SHADOW_TOMBSTONE_SECONDS', '--shadow-tombstone-seconds', 1000),
  });
  const indexBuildDelayMs = positive(flags.indexBuildDelayMs, 'INDEX_BUILD_DELAY_MS', '--index-build-delay-ms');
  const catalogQuotas = defined<CatalogQuotaConfig>({
    maxPackages: positive(flags.maxPackages, 'MAX_PACKAGES', '--max-packages'),
    maxVersionsPerPackage: positive(flags.maxVersionsPerPackage, 'MAX_VERSIONS_PER_PACKAGE', '--max-versions-per-package'),
  });

  const tlsSettings = resolveTlsConfig(flags, pick, truthy(env.FLEETJOBS_TLS), mqttOn && !mqttBroker);

  return {
    host,
    port,
    dataDir: pick(flags.dataDir, 'DATA_DIR') ?? './.fleetjobs',
    databaseUrl,
    region,
    accountId,
    auth: flags.auth === false ? false : !noAuthEnv,
    accessKeyId,
    secretAccessKey,
    maxJsonBodyBytes: 1024 * 1024,
    logLevel,
    logFormat,
    defaultDevicePolicy,
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...(s3 ? { s3 } : {}),
    ...(sbomValidation ? { sbomValidation } : {}),
    ...(shadows ? { shadows } : {}),
    ...(indexBuildDelayMs !== undefined ? { indexBuildDelayMs } : {}),
    ...(catalogQuotas ? { catalogQuotas } : {}),
    leaseMs: positive(flags.leaseSeconds, 'LEASE_SECONDS', '--lease-seconds', 1000) ?? DEFAULT_LEASE_MS,
    testMode,
    regions,
    ...(pick(flags.seed, 'SEED') ? { seedFile: pick(flags.seed, 'SEED') } : {}),
    ...(mqttOn && mqttBroker ? { mqttBroker } : {}),
    ...(mqttOn && !mqttBroker ? { mqttPort, mqttExposed: !loopback } : {}),
    ...tlsSettings,
    ...(throttle ? { throttle } : {}),
  };
}

function throttleOf(value: string | undefined): Config['throttle'] {
  try {
    const limits = resolveThrottle(value);
    return value === undefined || value === 'off' ? undefined : { source: value === 'aws' ? 'aws' : 'file', limits };
  } catch (err) {
    throw err instanceof ThrottleFileError ? new ConfigError(err.message) : err;
  }
}

function externalBroker(url: string | undefined, username: string | undefined, password: string | undefined): ExternalBrokerConfig | undefined {
  if (url === undefined) {
    if (username !== undefined || password !== undefined) throw new ConfigError('--mqtt-username and --mqtt-password are for an external broker: add --mqtt-url');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`invalid MQTT broker URL (mqtt://host:port or mqtts://host:port expected): ${url}`);
  }
  if ((parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') || parsed.hostname === '' || (parsed.pathname !== '' && parsed.pathname !== '/')) {
    throw new ConfigError(`invalid MQTT broker URL (mqtt://host:port or mqtts://host:port expected): ${url}`);
  }
  if (password !== undefined && username === undefined) throw new ConfigError('--mqtt-password needs --mqtt-username');
  return { url, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

export const DEFAULT_LEASE_MS = 15_000;
