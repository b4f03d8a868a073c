#!/usr/bin/env -S node --max-semi-space-size=64
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { startServer } from '../app.js';
import { createLogger } from '../log.js';
import { ConfigError, resolveConfig } from '../config/config.js';
import { checkCommand } from './check.js';
import { forecastCommand } from './forecast.js';
import { mosquittoAclCommand } from './mosquitto-acl.js';
import { serveOptions } from './serve-options.js';
import { simulateCommand } from './simulate.js';

/** package.json's version: two folders up from src/cli/ and from dist/cli/ alike. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const program = new Command();
program
  .name('fleetjobs')
  .description('Self-hosted AWS IoT Software Package Catalog and IoT Jobs')
  .version(packageVersion(), '-V, --version', 'print the version');

const serve = program
  .command('serve', { isDefault: true })
  .description('run the server (AWS IoT control plane, jobs data plane, shadows and S3 on one port)');
for (const option of serveOptions()) serve.addOption(option);
serve
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
    const logger = createLogger(config.logLevel, config.logFormat);
    let server;
    try {
      server = await startServer({ config, logger });
    } catch (err) {
      // Operational failures (port taken, database unreachable) get one line; anything else its stack.
      const code = (err as { code?: unknown }).code;
      const operational = err instanceof ConfigError || (typeof code === 'string' && /^(E[A-Z]+|28P01|3D000|57P03)$/.test(code));
      process.stderr.write(`fleetjobs: cannot start: ${operational ? (err as Error).message : err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    }
    // Before the first line: stdout to a pipe is written at once, so whoever reads it may signal at once.
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      server.close().then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    const tlsDevices = server.mqttTlsUrl ? ` and ${server.mqttTlsUrl}` : '';
    const devices = server.mqttBroker ? ` (devices through the MQTT broker at ${server.mqttUrl})` : server.mqttUrl ? ` and ${server.mqttUrl}${tlsDevices}` : '';
    process.stdout.write(`fleetjobs listening on ${server.url}${devices} (region ${config.region}, account ${config.accountId}, storage ${server.storage})\n`);
    if (server.tlsCaFile) process.stdout.write(`TLS: devices and SDKs trust the CA in ${server.tlsCaFile}\n`);
    if (config.testMode) {
      process.stdout.write('*** TEST MODE: the clock can be frozen, set and advanced, and everything reset (/_fleetjobs/clock, /_fleetjobs/reset, /_fleetjobs/seed). Not for production. ***\n');
    }
    if (config.mqttExposed) {
      process.stdout.write(
        `WARNING: the plain MQTT listener on ${config.host} checks no device credentials: any client whose id names a registered thing acts for it. Bind it to loopback and let devices in over TLS with their certificates (--tls, --mqtt-tls-port) or over signed WebSockets (/mqtt), or put fleetjobs behind a broker that authenticates devices (--mqtt-url).\n`,
      );
    }
    if (!config.auth) {
      process.stdout.write('WARNING: authentication is OFF (--no-auth): any request is accepted without a valid signature. Never expose this server.\n');
    } else if (server.generatedCredentials && server.credentials) {
      process.stdout.write(
        `Generated credentials (kept in ${server.credentialsKeptIn === 'database' ? `the database, with a copy in ${config.dataDir}/credentials.json` : `${config.dataDir}/credentials.json`}, shown only this once):\n` +
          `  AWS_ACCESS_KEY_ID=${server.credentials.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${server.credentials.secretAccessKey}\n`,
      );
    }
  });

program.addCommand(checkCommand());
program.addCommand(forecastCommand());
program.addCommand(mosquittoAclCommand());
program.addCommand(simulateCommand());

// `serve` is the default command, so a mistyped command would be taken as serve's argument: a
// first word that is no command and no flag is an error naming the commands.
const first = process.argv[2];
const commands = program.commands.map((c) => c.name());
if (first !== undefined && !first.startsWith('-') && first !== 'help' && !commands.includes(first)) {
  process.stderr.write(`fleetjobs: unknown command '${first}'; the commands are ${commands.join(', ')} (fleetjobs --help)\n`);
  process.exit(2);
}

program.parseAsync().catch((err) => {
  process.stderr.write(`fleetjobs: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
