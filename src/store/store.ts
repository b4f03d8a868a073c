import type { Kysely } from 'kysely';
import { IdempotencyStore, SettingsStore } from './idempotency.js';
import { PackageStore, PackageVersionStore, SbomValidationResultStore } from './packages.js';
import type { Database, Dialect } from './schema.js';
import { TagStore } from './tags.js';

/**
 * The one entry to persistence: a store per resource, all bound to the same connection or
 * transaction. Domain services receive a Store and call `transaction()` around any change that
 * touches several rows, so it commits or rolls back whole.
 */
export class Store {
  readonly packages: PackageStore;
  readonly packageVersions: PackageVersionStore;
  readonly sbomResults: SbomValidationResultStore;
  readonly tags: TagStore;
  readonly idempotency: IdempotencyStore;
  readonly settings: SettingsStore;

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly inTransaction = false,
  ) {
    this.packages = new PackageStore(db);
    this.packageVersions = new PackageVersionStore(db);
    this.sbomResults = new SbomValidationResultStore(db);
    this.tags = new TagStore(db);
    this.idempotency = new IdempotencyStore(db);
    this.settings = new SettingsStore(db);
  }

  /** Runs `fn` in one transaction; nested calls join the outer one. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new Store(trx, this.dialect, true)));
  }
}
