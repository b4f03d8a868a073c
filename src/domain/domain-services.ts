import type { DomainContext } from './context.js';
import { ContinuousJobMembership } from './jobs/continuous-membership.js';
import { ExecutionControlService } from './jobs/execution-control-service.js';
import type { JobActivity } from './jobs/job-activity.js';
import { createJobDomain } from './jobs/job-domain.js';
import { JobCreationService } from './jobs/job-creation.js';
import type { JobNotifier } from './jobs/job-notifications.js';
import type { JobDocumentSource, JobDocumentUrls } from './jobs/job-ports.js';
import { JobService } from './jobs/job-service.js';
import { JobsDataService } from './jobs/jobs-data-service.js';
import { JobTemplateService } from './jobs/templates/job-template-service.js';
import { ManagedJobTemplateService } from './jobs/templates/managed-template-service.js';
import type { ObjectLocationCheck } from './packages/object-check.js';
import { PackageConfigurationService } from './packages/package-configuration.js';
import { PackageService } from './packages/package-service.js';
import { SbomService, type SbomValidationQueue } from './packages/sbom-service.js';
import { PackageVersionService } from './packages/version-service.js';
import { createPolicyDomain } from './policies/policy-domain.js';
import type { PolicyPrincipals } from './policies/policy-targets.js';
import type { ShadowEvents } from './shadows/shadow-events.js';
import { ShadowService } from './shadows/shadow-service.js';
import type { ShadowSettings } from './shadows/shadow-settings.js';
import { ThingRegistry } from './things/registry.js';
import { FleetIndexService } from './indexing/fleet-index-service.js';
import { AggregationService } from './indexing/aggregation-service.js';
import { DocumentChanges } from './indexing/document-changes.js';
import { DynamicGroupService } from './indexing/dynamic-group-service.js';
import { DynamicMembership } from './indexing/dynamic-membership.js';
import type { IndexingSettings } from './indexing/indexing-config.js';
import { CaCertificateService } from './certificates/ca-certificate-service.js';
import { noCertificateEvents, type CertificateEvents, type DeviceCaPort } from './certificates/certificate-ports.js';
import { CertificateService } from './certificates/certificate-service.js';
import { ThingPrincipalService } from './certificates/thing-principal-service.js';

/** What the domain reaches outside itself through: object storage, MQTT, the SBOM worker. */
export interface DomainPorts {
  locationCheck: ObjectLocationCheck;
  sbomQueue: SbomValidationQueue;
  shadowEvents?: ShadowEvents;
  shadowSettings: Partial<ShadowSettings>;
  jobNotifier: JobNotifier;
  jobDocumentUrls: JobDocumentUrls;
  jobDocumentSource: JobDocumentSource;
  /** Told when a background job deletion fails (it is retried). */
  onJobDeletionFailure: (jobId: string, err: unknown, attempt: number) => void;
  /** Told what the job domain did, for the metrics. */
  jobActivity?: JobActivity;
  /** Fleet indexing settings (indexBuildDelayMs, limits). */
  indexingSettings?: Partial<IndexingSettings>;
  /** Signs CreateKeysAndCertificate's and CreateCertificateFromCsr's certificates. */
  deviceCa: DeviceCaPort;
  /** Certificate changes the device doors act on (the home region's MQTT door). */
  certificateEvents?: CertificateEvents;
  /** Whether a certificate ARN names a certificate (policy targets); every well-formed one until certificates are stored. */
  policyPrincipals?: PolicyPrincipals;
  /** Where a thing refused by a dynamic group at the 10-group limit is logged (AddThingToDynamicThingGroupsFailed). */
  dynamicGroupLog?: { warn(obj: object, msg: string): void };
}

/**
 * Every domain service, wired to one another, on one context. The server builds them once on its
 * Store; test mode's seed builds them again on one transaction's Store, so a whole seed goes
 * through the very services (and validation) of the API calls it stands for, and commits whole.
 */
export function createDomainServices(ctx: DomainContext, ports: DomainPorts) {
  const catalog = {
    packages: new PackageService(ctx),
    versions: new PackageVersionService(ctx, ports.locationCheck),
    sboms: new SbomService(ctx, ports.locationCheck, ports.sbomQueue),
    configuration: new PackageConfigurationService(ctx),
  };
  // A thing's index document changes (registry, groups, shadows, connectivity): dynamic groups follow.
  const documents = new DocumentChanges();
  // Jobs registers its membership listener on the registry (CONTINUOUS jobs follow groups).
  const registry = new ThingRegistry(ctx, documents);
  // Shadows are independent of the registry; Jobs writes `$package` through recordPackageVersions.
  const shadows = new ShadowService(ctx, ports.shadowEvents, ports.shadowSettings, documents);
  // IoT Jobs. Every execution change goes through ExecutionService (counters, completion,
  // `$package`, notifications).
  const jobDomain = createJobDomain(ctx, { notifier: ports.jobNotifier, packageConfiguration: catalog.configuration, packageShadow: shadows, activity: ports.jobActivity });
  const jobTemplates = { templates: new JobTemplateService(ctx), managed: new ManagedJobTemplateService(ctx.arns) };
  const jobServices = {
    creation: new JobCreationService(ctx, jobDomain.rollout, { documentSource: ports.jobDocumentSource, templates: jobTemplates.templates }),
    jobs: new JobService(ctx, jobDomain, undefined, ports.onJobDeletionFailure),
    executions: new ExecutionControlService(ctx, jobDomain.executions),
  };
  const jobsData = new JobsDataService(ctx, jobDomain.executions, ports.jobDocumentUrls);
  registry.addMembershipListener(new ContinuousJobMembership(ctx, jobDomain.executions));
  // Fleet indexing: the registry is searched in place, shadows index themselves as they are written.
  const fleetIndex = new FleetIndexService(ctx, ports.indexingSettings, undefined, documents);
  // Dynamic thing groups: memberships follow documents, in the change's transaction.
  const dynamicMembership = new DynamicMembership(ctx, registry.events, registry.limits.maxGroupsPerThing, ports.dynamicGroupLog);
  documents.add(dynamicMembership);
  const dynamicGroups = new DynamicGroupService(ctx, dynamicMembership, registry.events, fleetIndex.settings, undefined, ports.dynamicGroupLog);
  fleetIndex.dynamicGroups = dynamicGroups;
  documents.addBulk(dynamicGroups);
  const aggregations = new AggregationService(ctx);
  const events = ports.certificateEvents ?? noCertificateEvents;
  const certificates = {
    certificates: new CertificateService(ctx, ports.deviceCa, events),
    caCertificates: new CaCertificateService(ctx, events),
    principals: new ThingPrincipalService(ctx, events),
  };
  const policies = createPolicyDomain(ctx, registry, ports.policyPrincipals);
  // DeleteCertificate's conflict rule counts (and forceDelete drops) the certificate's policies.
  certificates.certificates.usePolicyAttachments({
    countAttachedTo: (tx, arn) => tx.policies.countForTarget(arn),
    detachAllFrom: (tx, arn) => tx.policies.detachAll(arn),
  });
  return { catalog, registry, shadows, jobDomain, jobTemplates, jobServices, jobsData, fleetIndex, aggregations, dynamicGroups, dynamicMembership, certificates, policies };
}

export type DomainServices = ReturnType<typeof createDomainServices>;
