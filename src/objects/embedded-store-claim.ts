import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { EmbeddedStoreOwner } from '../store/embedded-object-store-claims.js';

/** Where the claims are recorded: the shared database (PostgreSQL). */
export interface EmbeddedStoreClaims {
  claim(owner: EmbeddedStoreOwner, now: number): Promise<EmbeddedStoreOwner>;
}

/**
 * A second instance on a shared PostgreSQL with its own embedded store would list objects whose
 * bytes are in another data dir (NoSuchKey), and store bytes the others cannot read. So the
 * database records which data dir holds its objects (decision 0045): instances on that data dir
 * (a restart, or several processes sharing one directory) start; any other refuses.
 */
export class EmbeddedStoreClaimedError extends Error {
  /** An operational failure: the CLI prints the message alone. */
  readonly code = 'EOBJECTSTORE';
}

const ID_FILE = 'object-store.id';

/** The data dir's identity: a random id kept in the data dir, so a copied or moved directory keeps it. */
export function dataDirId(dataDir: string): string {
  const file = join(dataDir, ID_FILE);
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const id = randomUUID();
  try {
    writeFileSync(file, id + '\n', { flag: 'wx', mode: 0o644 });
    return id;
  } catch (err) {
    // Another process on this data dir wrote it first: take that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** Claims the database's objects for this data dir's embedded store, or refuses the start. */
export async function claimEmbeddedStore(dataDir: string, claims: EmbeddedStoreClaims, now: number): Promise<void> {
  const own: EmbeddedStoreOwner = { dataDirId: dataDirId(dataDir), dataDir: resolve(dataDir), host: hostname() };
  const owner = await claims.claim(own, now);
  if (owner.dataDirId === own.dataDirId) return;
  throw new EmbeddedStoreClaimedError(
    `this PostgreSQL database's objects are in the embedded object store of another data dir (${owner.dataDir} on ${owner.host}); ` +
      `this instance (data dir ${own.dataDir}) cannot reach them. To run several instances on one database, give every instance ` +
      `the same S3 service with --s3-endpoint (FLEETJOBS_S3_ENDPOINT; MinIO or any S3), or start this one with --data-dir ${owner.dataDir}.`,
  );
}
