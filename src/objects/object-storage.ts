import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import { FsMultipartUploads } from './fs-multipart.js';
import { FsObjectStore } from './fs-object-store.js';
import { claimEmbeddedStore } from './embedded-store-claim.js';
import type { ObjectStore } from './object-store.js';
import { OwnUrlPresigner } from './own-url-presigner.js';
import { S3ObjectStore } from './s3-object-store.js';

export interface ObjectStorage {
  /** What the catalog and jobs read objects through. */
  store: ObjectStore;
  /** The embedded store, to be served as the S3 subset; undefined when an external S3 is configured. */
  embedded?: { objects: FsObjectStore; multipart: FsMultipartUploads };
  /** Presigned URLs of the embedded store point at the server, whose URL is known only after listen. */
  setBaseUrl(url: string): void;
  /**
   * Test mode's reset, once the database is wiped: the embedded store's files. An external S3's
   * objects are not fleetjobs' to delete (decision 0016); the metadata is gone either way.
   */
  removeAllObjects(): Promise<void>;
  close(): Promise<void>;
}

export interface ObjectStorageOptions {
  config: Config;
  store: Store;
  /** Timestamps of buckets and object versions. */
  clock: Clock;
  /** Signing time of presigned URLs (the verifier checks them against the wall clock). */
  signatureClock: Clock;
  credentials: () => { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** The embedded object store on disk, or the external S3 service the configuration names. */
export async function openObjectStorage(options: ObjectStorageOptions): Promise<ObjectStorage> {
  const { config } = options;
  if (config.s3) {
    const s3 = await S3ObjectStore.create(config.s3);
    return {
      store: s3,
      setBaseUrl: () => undefined,
      removeAllObjects: async () => undefined,
      close: async () => s3.close(),
    };
  }
  // With PostgreSQL several instances may share the database, but only one data dir's files (decision 0045).
  if (config.databaseUrl) await claimEmbeddedStore(config.dataDir, options.store.embeddedObjectStore, options.clock.now());
  const presigner = new OwnUrlPresigner({ region: config.region, credentials: options.credentials, clock: options.signatureClock });
  const objects = await FsObjectStore.open({ dataDir: config.dataDir, store: options.store, clock: options.clock, presigner });
  return {
    store: objects,
    embedded: { objects, multipart: new FsMultipartUploads(objects, options.store, options.clock) },
    setBaseUrl: (url) => presigner.setBaseUrl(url),
    removeAllObjects: () => objects.removeAllFiles(),
    close: () => objects.close(),
  };
}
