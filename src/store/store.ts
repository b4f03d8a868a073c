import { DynamicGroupStore } from './dynamic-thing-groups.js';
import type { Kysely } from 'kysely';
import { BackgroundLeaseStore } from './background-leases.js';
import { IdempotencyStore, SettingsStore } from './idempotency.js';
import { JobExecutionStore } from './job-executions.js';
import { JobRolloutStore } from './job-rollouts.js';
import { JobOutboxStore } from './job-outbox.js';
import { JobTemplateStore } from './job-templates.js';
import { JobStore } from './jobs.js';
import { ObjectMetadataStore } from './objects.js';
import { PendingListStore } from './pending-lists.js';
import { PolicyStore } from './policies.js';
import { PolicyChangeStore } from './policy-changes.js';
import { PackageStore, PackageVersionStore, SbomValidationResultStore } from './packages.js';
import { holdsResources, wipeResources } from './reset.js';
import { SbomValidationStore } from './sbom-validations.js';
import { sqliteGateOf } from './sqlite-fifo.js';
import type { Database, Dialect } from './schema.js';
import { ShadowStore } from './shadows.js';
import { TagStore } from './tags.js';
import { ThingGroupStore } from './thing-groups.js';
import { BillingGroupStore } from './billing-groups.js';
import { EmbeddedObjectStoreClaims } from './embedded-object-store-claims.js';
import { ServerCredentialStore } from './server-credentials.js';
import { CaCertificateStore, CertificateStore } from './certificates.js';
import { ThingPrincipalStore } from './thing-principals.js';
import { ThingStore, ThingTypeStore } from './things.js';
import { FleetIndexStore } from './fleet-index.js';
import { FleetAggregationStore } from './fleet-index-aggregations.js';

/**
 * The one entry to persistence: a store per resource, all bound to the same connection or
 * transaction. Domain services receive a Store and call `transaction()` around any change that
 * touches several rows, so it commits or rolls back whole.
 */
export class Store {
  readonly packages: PackageStore;
  readonly packageVersions: PackageVersionStore;
  readonly sbomResults: SbomValidationResultStore;
  readonly sbomValidations: SbomValidationStore;
  readonly tags: TagStore;
  readonly idempotency: IdempotencyStore;
  readonly settings: SettingsStore;
  readonly leases: BackgroundLeaseStore;
  readonly jobs: JobStore;
  readonly jobExecutions: JobExecutionStore;
  readonly pendingLists: PendingListStore;
  readonly jobRollouts: JobRolloutStore;
  readonly jobOutbox: JobOutboxStore;
  readonly jobTemplates: JobTemplateStore;
  readonly objects: ObjectMetadataStore;
  readonly things: ThingStore;
  readonly thingTypes: ThingTypeStore;
  readonly thingGroups: ThingGroupStore;
  readonly dynamicGroups: DynamicGroupStore;
  readonly billingGroups: BillingGroupStore;
  readonly serverCredentials: ServerCredentialStore;
  readonly embeddedObjectStore: EmbeddedObjectStoreClaims;
  readonly certificates: CertificateStore;
  readonly caCertificates: CaCertificateStore;
  readonly thingPrincipals: ThingPrincipalStore;
  readonly shadows: ShadowStore;
  readonly fleetIndex: FleetIndexStore;
  readonly fleetAggregations: FleetAggregationStore;
  readonly policies: PolicyStore;
  readonly policyChanges: PolicyChangeStore;

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly inTransaction = false,
    /** Callbacks waiting for the surrounding transaction to commit (see afterCommit). */
    private readonly commitHooks: (() => void)[] = [],
  ) {
    this.packages = new PackageStore(db);
    this.packageVersions = new PackageVersionStore(db);
    this.sbomResults = new SbomValidationResultStore(db);
    this.sbomValidations = new SbomValidationStore(db);
    this.tags = new TagStore(db);
    this.idempotency = new IdempotencyStore(db);
    this.settings = new SettingsStore(db);
    this.leases = new BackgroundLeaseStore(db);
    this.jobs = new JobStore(db, dialect);
    this.jobExecutions = new JobExecutionStore(db, dialect);
    this.pendingLists = new PendingListStore(db, dialect);
    this.jobRollouts = new JobRolloutStore(db, dialect);
    this.jobOutbox = new JobOutboxStore(db, dialect);
    this.jobTemplates = new JobTemplateStore(db);
    this.objects = new ObjectMetadataStore(db);
    this.things = new ThingStore(db, dialect);
    this.thingTypes = new ThingTypeStore(db, dialect);
    this.thingGroups = new ThingGroupStore(db, dialect);
    this.dynamicGroups = new DynamicGroupStore(db, dialect);
    this.billingGroups = new BillingGroupStore(db, dialect);
    this.serverCredentials = new ServerCredentialStore(db);
    this.embeddedObjectStore = new EmbeddedObjectStoreClaims(db);
    this.certificates = new CertificateStore(db, dialect);
    this.caCertificates = new CaCertificateStore(db, dialect);
    this.thingPrincipals = new ThingPrincipalStore(db, dialect);
    this.shadows = new ShadowStore(db, dialect);
    this.fleetIndex = new FleetIndexStore(db, dialect);
    this.fleetAggregations = new FleetAggregationStore(db, dialect);
    this.policies = new PolicyStore(db, dialect);
    this.policyChanges = new PolicyChangeStore(db);
  }

  /**
   * Runs `fn` in one transaction; nested calls join the outer one. `snapshot` asks PostgreSQL for
   * one snapshot for the whole transaction (REPEATABLE READ) instead of one per statement; SQLite's
   * single writer sees one state anyway.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>, opts: { snapshot?: boolean } = {}): Promise<T> {
    if (this.inTransaction) return fn(this);
    const hooks: (() => void)[] = [];
    const sqlite = sqliteGateOf(this.db);
    if (sqlite) {
      // BEGIN and COMMIT straight on the held connection (sqlite-fifo.ts), without Kysely's
      // transaction machinery.
      return sqlite.gate.transaction((held) => fn(new Store(held, this.dialect, true, hooks))).then((result) => {
        for (const hook of hooks) hook();
        return result;
      });
    }
    let builder = this.db.transaction();
    if (opts.snapshot && this.dialect === 'postgres') builder = builder.setIsolationLevel('repeatable read');
    return builder.execute((trx) => fn(new Store(trx, this.dialect, true, hooks))).then((result) => {
      for (const hook of hooks) hook();
      return result;
    });
  }

  /** Test mode's reset: every resource's rows gone, in one transaction (store/reset.ts). */
  wipeResources(): Promise<{ tables: string[] }> {
    if (this.inTransaction) throw new Error('a reset is its own transaction');
    return wipeResources(this.db, this.dialect);
  }

  /** Whether any resource exists (test mode's start seed goes only into an empty server). */
  holdsResources(): Promise<boolean> {
    return holdsResources(this.db, this.dialect);
  }

  /**
   * Runs `hook` once the surrounding transaction has committed (at once outside a transaction);
   * dropped if it rolls back. For announcements (MQTT events) that must never describe a change
   * that did not happen. Hooks must not throw.
   */
  afterCommit(hook: () => void): void {
    if (this.inTransaction) this.commitHooks.push(hook);
    else hook();
  }
}
