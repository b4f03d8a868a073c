import { Option } from 'commander';
import { DEFAULT_LEASE_MS } from '../config/config.js';
import { DEFAULT_LIMITS } from '../domain/context.js';
import { DEFAULT_SHADOW_SETTINGS } from '../domain/shadows/shadow-settings.js';
import { DEFAULT_SBOM_VALIDATION_SETTINGS as SBOM } from '../workers/sbom-validation-worker.js';

/**
 * `fleetjobs serve`'s flags, each with the FLEETJOBS_* variable that sets it too and its default,
 * shown by `serve --help`. The values are resolved by config.ts (flag, else variable, else
 * default); commander only parses, so its own defaults and env handling stay unused.
 */
interface Flag {
  flags: string;
  description: string;
  env: string;
  /** What applies when neither the flag nor the variable is given. */
  default?: string;
}

const FLAGS: Flag[] = [
  { flags: '--host <host>', description: 'address to bind', env: 'FLEETJOBS_HOST', default: '127.0.0.1' },
  { flags: '--port <port>', description: 'port to bind, 0 for any free port', env: 'FLEETJOBS_PORT', default: '8080' },
  { flags: '--data-dir <dir>', description: 'where the embedded database, objects and keys live', env: 'FLEETJOBS_DATA_DIR', default: './.fleetjobs' },
  { flags: '--database-url <url>', description: 'postgres://... to use PostgreSQL instead of SQLite', env: 'FLEETJOBS_DATABASE_URL', default: 'SQLite in the data dir' },
  { flags: '--region <region>', description: 'the home region, in every ARN', env: 'FLEETJOBS_REGION', default: 'us-east-1' },
  { flags: '--regions <list>', description: 'more regions to serve, each with its own resources: us-east-1,eu-west-1, or \'*\' for any', env: 'FLEETJOBS_REGIONS', default: 'none' },
  { flags: '--account-id <id>', description: 'account in every ARN', env: 'FLEETJOBS_ACCOUNT_ID', default: '123456789012' },
  { flags: '--log-level <level>', description: 'pino log level', env: 'FLEETJOBS_LOG_LEVEL', default: 'info' },
  { flags: '--metrics-port <port>', description: 'also serve GET /metrics unsigned on this port (for an internal address; 0 for any free one)', env: 'FLEETJOBS_METRICS_PORT', default: 'none: /metrics on the main port, signed for iot' },
  { flags: '--log-format <format>', description: 'json (one JSON object per line) or pretty (for people)', env: 'FLEETJOBS_LOG_FORMAT', default: 'pretty on a terminal, else json' },
  { flags: '--default-device-policy <policy>', description: 'what a device with no policy attached may do: aws (nothing, as AWS) or own-thing (its own $aws/things/{thing}/ topics)', env: 'FLEETJOBS_DEFAULT_DEVICE_POLICY', default: 'own-thing' },
  { flags: '--public-url <url>', description: 'origin devices reach this server at, used in presigned URLs', env: 'FLEETJOBS_PUBLIC_URL', default: 'the bound address' },
  { flags: '--s3-endpoint <url>', description: 'use this S3 service for objects instead of the embedded S3 subset', env: 'FLEETJOBS_S3_ENDPOINT', default: 'the embedded store' },
  { flags: '--s3-region <region>', description: 'region of the external S3 service; alone, selects AWS S3', env: 'FLEETJOBS_S3_REGION', default: '--region' },
  { flags: '--s3-access-key-id <id>', description: 'access key for the external S3 service', env: 'FLEETJOBS_S3_ACCESS_KEY_ID', default: 'the AWS default chain' },
  { flags: '--s3-secret-access-key <secret>', description: 'secret key for the external S3 service', env: 'FLEETJOBS_S3_SECRET_ACCESS_KEY' },
  { flags: '--s3-force-path-style', description: 'address the external S3 service path-style', env: 'FLEETJOBS_S3_FORCE_PATH_STYLE=1', default: 'virtual-hosted' },
  { flags: '--sbom-max-archive-bytes <n>', description: 'largest SBOM object validated, in bytes', env: 'FLEETJOBS_SBOM_MAX_ARCHIVE_BYTES', default: String(SBOM.maxArchiveBytes) },
  { flags: '--sbom-max-file-bytes <n>', description: 'largest SBOM file validated, in bytes', env: 'FLEETJOBS_SBOM_MAX_FILE_BYTES', default: String(SBOM.maxFileBytes) },
  { flags: '--sbom-max-entries <n>', description: 'most entries read from an SBOM zip', env: 'FLEETJOBS_SBOM_MAX_ENTRIES', default: String(SBOM.maxEntries) },
  { flags: '--sbom-max-concurrent-validations <n>', description: 'SBOM validations run at the same time', env: 'FLEETJOBS_SBOM_MAX_CONCURRENT_VALIDATIONS', default: String(SBOM.maxConcurrentValidations) },
  { flags: '--sbom-max-queued-validations <n>', description: 'SBOM validations waiting or running before associations are refused', env: 'FLEETJOBS_SBOM_MAX_QUEUED_VALIDATIONS', default: String(SBOM.maxQueuedValidations) },
  { flags: '--shadow-max-state-bytes <n>', description: 'largest shadow desired + reported state, in bytes', env: 'FLEETJOBS_SHADOW_MAX_STATE_BYTES', default: String(DEFAULT_SHADOW_SETTINGS.maxStateBytes) },
  { flags: '--index-build-delay-ms <ms>', description: 'report a fleet index build BUILDING at least this long (tests)', env: 'FLEETJOBS_INDEX_BUILD_DELAY_MS', default: '0' },
  { flags: '--shadow-max-depth <n>', description: 'deepest nesting inside desired / reported', env: 'FLEETJOBS_SHADOW_MAX_DEPTH', default: String(DEFAULT_SHADOW_SETTINGS.maxDepth) },
  { flags: '--shadow-tombstone-seconds <n>', description: 'how long a deleted shadow\'s version is remembered', env: 'FLEETJOBS_SHADOW_TOMBSTONE_SECONDS', default: String(DEFAULT_SHADOW_SETTINGS.tombstoneMs / 1000) },
  { flags: '--max-packages <n>', description: 'most packages the catalog holds; CreatePackage answers 402 beyond', env: 'FLEETJOBS_MAX_PACKAGES', default: String(DEFAULT_LIMITS.maxPackages) },
  { flags: '--max-versions-per-package <n>', description: 'most versions a package holds', env: 'FLEETJOBS_MAX_VERSIONS_PER_PACKAGE', default: String(DEFAULT_LIMITS.maxVersionsPerPackage) },
  { flags: '--lease-seconds <n>', description: 'how long a node\'s claim on background work lasts before another node takes it over', env: 'FLEETJOBS_LEASE_SECONDS', default: String(DEFAULT_LEASE_MS / 1000) },
  { flags: '--mqtt-port <port>', description: 'the embedded MQTT broker\'s port, 0 for any free port', env: 'FLEETJOBS_MQTT_PORT', default: '1883' },
  { flags: '--mqtt-url <url>', description: 'serve devices through this MQTT broker (mqtt:// or mqtts://) instead of the embedded one', env: 'FLEETJOBS_MQTT_URL', default: 'the embedded broker' },
  { flags: '--mqtt-username <name>', description: 'the user fleetjobs connects to the external broker as', env: 'FLEETJOBS_MQTT_USERNAME' },
  { flags: '--mqtt-password <password>', description: 'its password', env: 'FLEETJOBS_MQTT_PASSWORD' },
  { flags: '--tls', description: 'serve HTTPS and MQTT over TLS with a CA and server certificate made (once) in <data-dir>/tls/', env: 'FLEETJOBS_TLS=1', default: 'off' },
  { flags: '--tls-cert <file>', description: 'the server certificate (PEM, chain allowed): HTTPS on --port and the MQTT TLS listener', env: 'FLEETJOBS_TLS_CERT', default: 'none' },
  { flags: '--tls-key <file>', description: 'its private key (PEM)', env: 'FLEETJOBS_TLS_KEY', default: 'none' },
  { flags: '--mqtt-tls-port <port>', description: 'the MQTT TLS (mTLS) listener\'s port with TLS on, 0 for any free port', env: 'FLEETJOBS_MQTT_TLS_PORT', default: '8883' },
  { flags: '--device-ca-cert <file>', description: 'the CA certificate that signs device certificates (CreateKeysAndCertificate, CreateCertificateFromCsr)', env: 'FLEETJOBS_DEVICE_CA_CERT', default: '<data-dir>/tls/ca.pem, made when first needed' },
  { flags: '--device-ca-key <file>', description: 'its private key (PEM); read at start, never logged nor sent', env: 'FLEETJOBS_DEVICE_CA_KEY', default: '<data-dir>/tls/ca.key' },
  { flags: '--no-mqtt', description: 'no MQTT device door', env: 'FLEETJOBS_NO_MQTT=1', default: 'the embedded broker on' },
  { flags: '--throttle <off|aws|file>', description: 'per-operation rate limits: AWS\'s documented rates, or a JSON file of them (README "Throttling")', env: 'FLEETJOBS_THROTTLE', default: 'off' },
  { flags: '--test-mode', description: 'the test double: a clock to move, reset and seed under /_fleetjobs/; loopback only', env: 'FLEETJOBS_TEST_MODE=1', default: 'off' },
  { flags: '--test-mode-any-host', description: 'allow --test-mode on a non-loopback address', env: 'FLEETJOBS_TEST_MODE_ANY_HOST=1', default: 'off' },
  { flags: '--seed <file>', description: 'fixtures to create in an empty server at start, JSON or YAML (README "Seeding")', env: 'FLEETJOBS_SEED', default: 'none' },
  { flags: '--no-auth', description: 'accept unsigned and wrongly signed requests (local experiments only)', env: 'FLEETJOBS_NO_AUTH=1', default: 'SigV4 required' },
];

/** The flags as commander options, each describing its variable and default. */
export function serveOptions(): Option[] {
  return FLAGS.map((f) => {
    const tail = f.default === undefined ? f.env : `${f.env}; default ${f.default}`;
    return new Option(f.flags, `${f.description} (${tail})`);
  });
}
