#!/usr/bin/env node
import { Command, Option } from 'commander';
import { startServer } from '../app.js';
import { ConfigError, resolveConfig } from '../config/config.js';
import { checkCommand } from './check.js';
import { forecastCommand } from './forecast.js';
import { mosquittoAclCommand } from './mosquitto-acl.js';
import { simulateCommand } from './simulate.js';

const program = new Command();
program.name('fleetjobs').description('Self-hosted AWS IoT Software Package Catalog and IoT Jobs');

program
  .command('serve', { isDefault: true })
  .description('run the server (AWS IoT control plane, jobs data plane, shadows and S3 on one port)')
  .addOption(new Option('--host <host>', 'address to bind (FLEETJOBS_HOST)'))
  .addOption(new Option('--port <port>', 'port to bind, 0 for any free port (FLEETJOBS_PORT)'))
  .addOption(new Option('--data-dir <dir>', 'where the embedded database and keys live (FLEETJOBS_DATA_DIR)'))
  .addOption(new Option('--database-url <url>', 'postgres://... to use PostgreSQL instead of SQLite (FLEETJOBS_DATABASE_URL)'))
  .addOption(new Option('--region <region>', 'region in every ARN (FLEETJOBS_REGION)'))
  .addOption(new Option('--regions <list>', 'more regions to serve, each with its own resources: us-east-1,eu-west-1, or \'*\' for any (FLEETJOBS_REGIONS)'))
  .addOption(new Option('--account-id <id>', 'account in every ARN (FLEETJOBS_ACCOUNT_ID)'))
  .addOption(new Option('--log-level <level>', 'pino log level (FLEETJOBS_LOG_LEVEL)'))
  .addOption(new Option('--public-url <url>', 'origin devices reach this server at, used in presigned URLs (FLEETJOBS_PUBLIC_URL)'))
  .addOption(new Option('--s3-endpoint <url>', 'use this S3 service for objects instead of the embedded S3 subset (FLEETJOBS_S3_ENDPOINT)'))
  .addOption(new Option('--s3-region <region>', 'region of the external S3 service; alone, selects AWS S3 (FLEETJOBS_S3_REGION)'))
  .addOption(new Option('--s3-access-key-id <id>', 'access key for the external S3 service, else the AWS default chain (FLEETJOBS_S3_ACCESS_KEY_ID)'))
  .addOption(new Option('--s3-secret-access-key <secret>', 'secret key for the external S3 service (FLEETJOBS_S3_SECRET_ACCESS_KEY)'))
  .addOption(new Option('--s3-force-path-style', 'address the external S3 service path-style (FLEETJOBS_S3_FORCE_PATH_STYLE=1)'))
  .addOption(new Option('--sbom-max-archive-bytes <n>', 'largest SBOM object validated, in bytes (FLEETJOBS_SBOM_MAX_ARCHIVE_BYTES)'))
  .addOption(new Option('--sbom-max-file-bytes <n>', 'largest SBOM file validated, in bytes (FLEETJOBS_SBOM_MAX_FILE_BYTES)'))
  .addOption(new Option('--sbom-max-entries <n>', 'most entries read from an SBOM zip (FLEETJOBS_SBOM_MAX_ENTRIES)'))
  .addOption(new Option('--sbom-max-concurrent-validations <n>', 'SBOM validations run at the same time (FLEETJOBS_SBOM_MAX_CONCURRENT_VALIDATIONS)'))
  .addOption(new Option('--sbom-max-queued-validations <n>', 'SBOM validations waiting or running before associations are refused (FLEETJOBS_SBOM_MAX_QUEUED_VALIDATIONS)'))
  .addOption(new Option('--shadow-max-state-bytes <n>', 'largest shadow desired + reported state, in bytes (FLEETJOBS_SHADOW_MAX_STATE_BYTES)'))
  .addOption(new Option('--shadow-max-depth <n>', 'deepest nesting inside desired / reported (FLEETJOBS_SHADOW_MAX_DEPTH)'))
  .addOption(new Option('--shadow-tombstone-seconds <n>', 'how long a deleted shadow\'s version is remembered (FLEETJOBS_SHADOW_TOMBSTONE_SECONDS)'))
  .addOption(new Option('--max-packages <n>', 'most packages the catalog holds; CreatePackage answers 402 beyond (FLEETJOBS_MAX_PACKAGES, default 10000)'))
  .addOption(new Option('--max-versions-per-package <n>', 'most versions a package holds (FLEETJOBS_MAX_VERSIONS_PER_PACKAGE, default 1000)'))
  .addOption(new Option('--lease-seconds <n>', 'how long a node\'s claim on background work lasts before another node takes it over (FLEETJOBS_LEASE_SECONDS, default 15)'))
  .addOption(new Option('--mqtt-port <port>', 'the embedded MQTT broker\'s port, 0 for any free port (FLEETJOBS_MQTT_PORT, default 1883)'))
  .addOption(new Option('--mqtt-url <url>', 'serve devices through this MQTT broker (mqtt:// or mqtts://) instead of the embedded one (FLEETJOBS_MQTT_URL)'))
  .addOption(new Option('--mqtt-username <name>', 'the user fleetjobs connects to the external broker as (FLEETJOBS_MQTT_USERNAME)'))
  .addOption(new Option('--mqtt-password <password>', 'its password (FLEETJOBS_MQTT_PASSWORD)'))
  .option('--no-mqtt', 'no MQTT device door (FLEETJOBS_NO_MQTT=1)')
  .option('--test-mode', 'the test double: a clock to move, reset and seed under /_fleetjobs/ (FLEETJOBS_TEST_MODE=1); loopback only')
  .addOption(new Option('--seed <file>', 'fixtures to create in an empty server at start, JSON or YAML (FLEETJOBS_SEED); see README "Seeding"'))
  .option('--test-mode-any-host', 'allow --test-mode on a non-loopback address (FLEETJOBS_TEST_MODE_ANY_HOST=1)')
  .option('--no-auth', 'accept unsigned and wrongly signed requests (local experiments only)')
  .action(async (flags) => {
    let config;
    try {
      config = resolveConfig(flags);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`fleetjobs: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    let server;
    try {
      server = await startServer({ config });
    } catch (err) {
      // Operational failures (port taken, database unreachable) get one line; anything else its stack.
      const code = (err as { code?: unknown }).code;
      const operational = typeof code === 'string' && /^(E[A-Z]+|28P01|3D000|57P03)$/.test(code);
      process.stderr.write(`fleetjobs: cannot start: ${operational ? (err as Error).message : err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    }
    const devices = server.mqttBroker ? ` (devices through the MQTT broker at ${server.mqttUrl})` : server.mqttUrl ? ` and ${server.mqttUrl}` : '';
    process.stdout.write(`fleetjobs listening on ${server.url}${devices} (region ${config.region}, account ${config.accountId}, storage ${server.storage})\n`);
    if (config.testMode) {
      process.stdout.write('*** TEST MODE: the clock can be frozen, set and advanced, and everything reset (/_fleetjobs/clock, /_fleetjobs/reset, /_fleetjobs/seed). Not for production. ***\n');
    }
    if (config.mqttExposed) {
      process.stdout.write(
        `WARNING: the MQTT listener on ${config.host} checks no device credentials yet: any client whose id names a registered thing acts for it. Bind it to loopback, or put it behind a broker that authenticates devices (--mqtt-url).\n`,
      );
    }
    if (!config.auth) {
      process.stdout.write('WARNING: authentication is OFF (--no-auth): any request is accepted without a valid signature. Never expose this server.\n');
    } else if (server.generatedCredentials && server.credentials) {
      process.stdout.write(
        `Generated credentials (kept in ${config.dataDir}/credentials.json, shown only this once):\n` +
          `  AWS_ACCESS_KEY_ID=${server.credentials.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${server.credentials.secretAccessKey}\n`,
      );
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`fleetjobs: ${signal} received, shutting down\n`);
      server.close().then(
        () => process.exit(0),
        (err) => {
          process.stderr.write(`fleetjobs: error during shutdown: ${String(err)}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

program.addCommand(checkCommand());
program.addCommand(forecastCommand());
program.addCommand(mosquittoAclCommand());
program.addCommand(simulateCommand());

program.parseAsync().catch((err) => {
  process.stderr.write(`fleetjobs: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
