import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The key pair requests must be signed with. Configured keys win; otherwise a pair is generated
 * once per data dir and kept there (mode 0600), so restarts keep working with the same CLI profile.
 */
export function loadOrCreateCredentials(
  dataDir: string,
  configured: Partial<Credentials>,
): { credentials: Credentials; generated: boolean } {
  if (configured.accessKeyId && configured.secretAccessKey) {
    return { credentials: configured as Credentials, generated: false };
  }
  if (configured.accessKeyId || configured.secretAccessKey) {
    throw new Error('set both FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY, or neither');
  }
  const file = join(dataDir, 'credentials.json');
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Credentials;
    return { credentials: parsed, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const credentials: Credentials = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url').slice(0, 40),
  };
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return { credentials, generated: true };
}
