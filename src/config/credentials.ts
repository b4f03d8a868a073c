import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerCredentialStore } from '../store/server-credentials.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Where a generated key pair is kept: the data dir's file (SQLite) or the database (PostgreSQL). */
export type CredentialsHome = 'data-dir' | 'database';

export interface LoadedCredentials {
  credentials: Credentials;
  /** True when this start made the pair (it is printed once). */
  generated: boolean;
  keptIn: CredentialsHome;
}

function generate(): Credentials {
  return {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url').slice(0, 40),
  };
}

function readFile(file: string): Credentials | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Credentials) : undefined;
}

function checkConfigured(configured: Partial<Credentials>): Credentials | undefined {
  if (configured.accessKeyId && configured.secretAccessKey) return configured as Credentials;
  if (configured.accessKeyId || configured.secretAccessKey) {
    throw new Error('set both FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY, or neither');
  }
  return undefined;
}

/**
 * The key pair requests must be signed with. Configured keys win. Otherwise a pair is generated
 * once and kept with the data it protects (decision 0024):
 * - SQLite: in the data dir's `credentials.json` (mode 0600), so restarts keep the same CLI profile;
 * - PostgreSQL: in the database, so every instance on it accepts the same key. The first instance
 *   to start stores it (an insert that loses the race reads the winner's); a `credentials.json`
 *   already in the data dir is what it stores, so clients of an earlier version keep working. The
 *   data dir gets a copy (0600) for local tools (`fleetjobs check`, the README's exports).
 */
export async function loadOrCreateCredentials(
  dataDir: string,
  configured: Partial<Credentials>,
  database?: { store: ServerCredentialStore; now: number },
): Promise<LoadedCredentials> {
  const given = checkConfigured(configured);
  const file = join(dataDir, 'credentials.json');
  if (given) return { credentials: given, generated: false, keptIn: database ? 'database' : 'data-dir' };
  const fromFile = readFile(file);
  if (!database) {
    if (fromFile) return { credentials: fromFile, generated: false, keptIn: 'data-dir' };
    const credentials = generate();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    return { credentials, generated: true, keptIn: 'data-dir' };
  }
  let stored = await database.store.get();
  let generated = false;
  if (!stored) {
    const candidate = fromFile ?? generate();
    if (await database.store.insertIfAbsent(candidate, database.now)) {
      stored = candidate;
      generated = fromFile === undefined;
    } else {
      stored = await database.store.get();
      if (!stored) throw new Error('the key pair in the database disappeared while it was read');
    }
  }
  if (!fromFile || fromFile.accessKeyId !== stored.accessKeyId || fromFile.secretAccessKey !== stored.secretAccessKey) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
  }
  return { credentials: stored, generated, keptIn: 'database' };
}
