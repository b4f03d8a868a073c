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
}

export interface ConfigFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
  databaseUrl?: string;
  region?: string;
  accountId?: string;
  auth?: boolean;
  logLevel?: string;
}

export class ConfigError extends Error {}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | number | undefined, name: string): string | undefined =>
    flag !== undefined ? String(flag) : env[`FLEETJOBS_${name}`] || undefined;

  const portText = pick(flags.port, 'PORT') ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${portText}`);

  const region = pick(flags.region, 'REGION') ?? 'us-east-1';
  if (!REGION.test(region)) throw new ConfigError(`invalid region: ${region}`);
  const accountId = pick(flags.accountId, 'ACCOUNT_ID') ?? '123456789012';
  if (!ACCOUNT.test(accountId)) throw new ConfigError(`invalid account id (12 digits): ${accountId}`);

  const databaseUrl = pick(flags.databaseUrl, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`unsupported database URL (postgres://... expected): ${databaseUrl}`);
  }
  const noAuthEnv = env.FLEETJOBS_NO_AUTH === '1' || env.FLEETJOBS_NO_AUTH === 'true';

  return {
    host: pick(flags.host, 'HOST') ?? '127.0.0.1',
    port,
    dataDir: pick(flags.dataDir, 'DATA_DIR') ?? './.fleetjobs',
    databaseUrl,
    region,
    accountId,
    auth: flags.auth === false ? false : !noAuthEnv,
    accessKeyId: env.FLEETJOBS_ACCESS_KEY_ID || undefined,
    secretAccessKey: env.FLEETJOBS_SECRET_ACCESS_KEY || undefined,
    maxJsonBodyBytes: 1024 * 1024,
    logLevel: pick(flags.logLevel, 'LOG_LEVEL') ?? 'info',
  };
}
