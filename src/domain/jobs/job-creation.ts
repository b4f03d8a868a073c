import type { JobTargetRow } from '../../store/jobs.js';
import type { Store } from '../../store/store.js';
import type { DomainContext } from '../context.js';
import { DomainError, invalidRequest } from '../errors.js';
import { isDeployable } from '../packages/lifecycle.js';
import { checkTagList } from '../tags/tag-rules.js';
import { FieldErrors } from '../validation.js';
import { initialStatus, jobSchedule } from './job-lifecycle.js';
import type { JobRollout } from './job-rollout.js';
import {
  checkDestinationPackageVersions,
  checkJobConfigs,
  SNAPSHOT_MAINTENANCE_WINDOW_MESSAGE,
  type JobConfigs,
  type MaintenanceWindow,
} from './job-config-rules.js';
import { checkPresignedPlaceholders, resolveDocumentPlaceholders, validateJobDocument, type DestinationPackageVersion } from './job-document.js';
import type { JobDocumentSource } from './job-ports.js';
import { checkDescription, checkJobId, checkNamespaceId, checkTargetsList, MAX_DOCUMENT_CHARS, MAX_TARGETS, parseTarget, TARGET_SELECTIONS, type ParsedTarget } from './job-rules.js';

/** What a job template contributes to CreateJob (JobTemplateService.resolveForJob). */
export interface JobTemplateDefaults extends Omit<JobConfigs, 'schedulingConfig'> {
  document?: string;
  documentSource?: string;
  maintenanceWindows?: MaintenanceWindow[];
  destinationPackageVersions?: string[];
  /** AWS managed templates: every parameter, optional ones as ''; the document is resolved with these. */
  effectiveParameters?: Record<string, string>;
  /** AWS managed templates only: the job takes this description when the request gives none. */
  description?: string;
}

export interface JobTemplateResolver {
  resolveForJob(jobTemplateArn: string, documentParameters?: Record<string, string>): Promise<JobTemplateDefaults>;
}

const PARAMETER_KEY = /^[a-zA-Z0-9_-]+$/;
const ARN = /^arn:[!-~]+$/;

/**
 * CreateJob (jobs.md §2, §7, §8; packages.md §11): validates, merges the template's defaults,
 * resolves destination package versions and the document's placeholders, stores the raw and the
 * resolved document, and creates every execution in the same transaction.
 */
export class JobCreationService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rollout: JobRollout,
    private readonly deps: { templates?: JobTemplateResolver; documentSource: JobDocumentSource },
  ) {}

  async createJob(input: Record<string, unknown>): Promise<{ jobArn: string; jobId: string; description?: string }> {
    const errors = new FieldErrors('InvalidRequestException');
    const jobId = checkJobId(errors, input.jobId);
    const targetArns = checkTargetsList(errors, input.targets);
    let document = errors.string(input.document, 'document', { max: MAX_DOCUMENT_CHARS });
    let documentSource = errors.string(input.documentSource, 'documentSource', { min: 1, max: 1350 });
    let description = checkDescription(errors, input.description);
    const targetSelection = errors.string(input.targetSelection, 'targetSelection', { enum: TARGET_SELECTIONS }) ?? 'SNAPSHOT';
    const tags = checkTagList(errors, input.tags);
    const namespaceId = checkNamespaceId(errors, input.namespaceId);
    const jobTemplateArn = errors.string(input.jobTemplateArn, 'jobTemplateArn', { min: 1, max: 1600, pattern: ARN, patternText: '^arn:[!-~]+$' });
    const documentParameters = errors.stringMap(input.documentParameters, 'documentParameters', {
      key: { min: 1, max: 128, pattern: PARAMETER_KEY, patternText: '[a-zA-Z0-9_-]+' },
      value: { min: 1, max: 30720 },
    });
    let destinationArns = checkDestinationPackageVersions(errors, input.destinationPackageVersions);
    errors.throwIfAny();
    if (targetArns!.length > MAX_TARGETS) {
      throw new DomainError('LimitExceededException', `A job can have at most ${MAX_TARGETS} targets.`);
    }

    const template = jobTemplateArn !== undefined ? await this.resolveTemplate(jobTemplateArn, documentParameters) : undefined;
    if (template === undefined && documentParameters !== undefined) {
      throw invalidRequest('documentParameters can only be used with an AWS managed job template.');
    }
    // An AWS managed template's document is the job's; a custom template's may be replaced (decision 0023).
    if (template?.effectiveParameters !== undefined && (document !== undefined || documentSource !== undefined)) {
      throw invalidRequest(`A job created from the AWS managed job template ${jobTemplateArn} takes its document from the template: document and documentSource cannot be specified with it.`);
    }

    const now = this.ctx.clock.now();
    const configErrors = new FieldErrors('InvalidRequestException');
    const requested = checkJobConfigs(configErrors, input, now, { forTemplate: false, inheritedTimeoutConfig: template?.timeoutConfig });
    configErrors.throwIfAny();
    // Request members replace the template's whole (jobs.md §7.4).
    const configs: JobConfigs = {
      presignedUrlConfig: requested.presignedUrlConfig ?? template?.presignedUrlConfig,
      jobExecutionsRolloutConfig: requested.jobExecutionsRolloutConfig ?? template?.jobExecutionsRolloutConfig,
      abortConfig: requested.abortConfig ?? template?.abortConfig,
      timeoutConfig: requested.timeoutConfig ?? template?.timeoutConfig,
      jobExecutionsRetryConfig: requested.jobExecutionsRetryConfig ?? template?.jobExecutionsRetryConfig,
      schedulingConfig: requested.schedulingConfig,
    };
    if (template?.maintenanceWindows?.length && !configs.schedulingConfig?.maintenanceWindows) {
      configs.schedulingConfig = { ...configs.schedulingConfig, maintenanceWindows: template.maintenanceWindows };
    }
    if (targetSelection === 'SNAPSHOT' && configs.schedulingConfig?.maintenanceWindows?.length) {
      throw invalidRequest(SNAPSHOT_MAINTENANCE_WINDOW_MESSAGE);
    }
    if (document === undefined && documentSource === undefined && template) {
      document = template.document;
      documentSource = template.documentSource;
    }
    destinationArns ??= template?.destinationPackageVersions;
    description ??= template?.description;

    if (document !== undefined && documentSource !== undefined) {
      throw invalidRequest('Job document and job document source cannot be specified at the same time.');
    }
    if (document === undefined && documentSource === undefined) {
      throw invalidRequest('Neither job document nor job document source is specified.');
    }
    // A documentSource is read once, now; later changes to the object do not reach devices (§7.1).
    const rawDocument = document ?? (await this.deps.documentSource.fetch(documentSource!));
    validateJobDocument(rawDocument);

    const destinations = await this.resolveDestinations(destinationArns ?? []);
    const resolvedDocument = resolveDocumentPlaceholders(rawDocument, {
      documentParameters: template?.effectiveParameters ?? documentParameters,
      destinationPackageVersions: destinations,
    });
    checkPresignedPlaceholders(resolvedDocument, { presignedUrlConfig: configs.presignedUrlConfig, destinationPackageVersions: destinations });

    const targets = targetArns!.map((arn) => parseTarget(this.ctx.arns, arn));
    // Only a start time or maintenance windows make a job wait (jobs.md §2.1); an endTime alone, or
    // an empty schedulingConfig, starts it at once.
    const status = initialStatus(jobSchedule(configs.schedulingConfig), now);
    const jobArn = this.ctx.arns.job(jobId);
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

    const exists = () => new DomainError('ResourceAlreadyExistsException', `Job ${jobId} already exists.`, { resourceId: jobId, resourceArn: jobArn });
    await this.ctx.store.transaction(async (tx) => {
      if (await tx.jobs.get(jobId)) throw exists();
      const targetRows = await resolveTargets(tx, jobId, targets, 0);
      const row = {
        job_id: jobId,
        namespace_id: namespaceId ?? null,
        // The rollout engine releases the targets of an IN_PROGRESS job; a SCHEDULED one waits for it.
        status,
        target_selection: targetSelection,
        description: description ?? null,
        targets: JSON.stringify(targetArns),
        document: resolvedDocument,
        raw_document: rawDocument,
        document_source: documentSource ?? null,
        document_parameters: json(documentParameters),
        job_template_arn: jobTemplateArn ?? null,
        presigned_url_config: json(configs.presignedUrlConfig),
        rollout_config: json(configs.jobExecutionsRolloutConfig),
        abort_config: json(configs.abortConfig),
        timeout_config: json(configs.timeoutConfig),
        retry_config: json(configs.jobExecutionsRetryConfig),
        scheduling_config: json(configs.schedulingConfig),
        destination_package_versions: destinations.length > 0 ? JSON.stringify(destinations) : null,
        force_canceled: 0,
        reason_code: null,
        comment: null,
        created_at: now,
        last_updated_at: now,
        completed_at: null,
        n_queued: 0,
        n_in_progress: 0,
        n_succeeded: 0,
        n_failed: 0,
        n_rejected: 0,
        n_canceled: 0,
        n_removed: 0,
        n_timed_out: 0,
      };
      if (!(await tx.jobs.insert(row, targetRows))) throw exists();
      if (tags) await tx.tags.put(jobArn, tags);
      // Targets are queued, and the first burst released, in this transaction.
      await this.rollout.enqueue(tx, row, fanOutTargets(targetRows, await groupPaths(tx, targetRows)), { skipExisting: false });
    });
    return { jobArn, jobId, ...(description !== undefined ? { description } : {}) };
  }

  private async resolveTemplate(jobTemplateArn: string, documentParameters: Record<string, string> | undefined): Promise<JobTemplateDefaults> {
    if (!this.deps.templates) throw invalidRequest('Job templates are not available on this server.');
    return this.deps.templates.resolveForJob(jobTemplateArn, documentParameters);
  }

  /**
   * destinationPackageVersions → what the document and `$package` need: `$default` resolved to the
   * package's default version, `$null` kept (uninstall), every named version PUBLISHED or
   * DEPRECATED (packages.md §11.1).
   */
  private async resolveDestinations(arns: string[]): Promise<DestinationPackageVersion[]> {
    const out: DestinationPackageVersion[] = [];
    for (const arn of arns) {
      const parsed = this.ctx.arns.parse(arn);
      if (!parsed || parsed.resourceType !== 'package' || parsed.path.length !== 3 || parsed.path[1] !== 'version') {
        throw invalidRequest(`Invalid package version ARN ${arn} in destinationPackageVersions.`);
      }
      const [packageName, , requestedVersionName] = parsed.path;
      if (out.some((d) => d.packageName === packageName)) {
        throw invalidRequest(`Package ${packageName} appears more than once in destinationPackageVersions.`);
      }
      if (requestedVersionName === '$null') {
        out.push({ packageName, versionName: '$null', requestedVersionName, attributes: {} });
        continue;
      }
      const pkg = await this.ctx.store.packages.get(packageName);
      if (!pkg) throw invalidRequest(`Package ${packageName} in destinationPackageVersions does not exist.`);
      let versionName = requestedVersionName;
      if (requestedVersionName === '$default') {
        if (pkg.default_version_name === null) throw invalidRequest(`Package ${packageName} does not have a default version.`);
        versionName = pkg.default_version_name;
      }
      const version = await this.ctx.store.packageVersions.get(packageName, versionName);
      if (!version) throw invalidRequest(`Package version ${versionName} of package ${packageName} in destinationPackageVersions does not exist.`);
      if (!isDeployable(version.status)) {
        throw invalidRequest(`Package version ${versionName} of package ${packageName} is in ${version.status} status; only PUBLISHED or DEPRECATED versions can be deployed.`);
      }
      const attributes = version.attributes ? (JSON.parse(version.attributes) as Record<string, string>) : {};
      out.push({
        packageName,
        versionName,
        requestedVersionName,
        attributes,
        ...(version.artifact ? { artifact: JSON.parse(version.artifact) as DestinationPackageVersion['artifact'] } : {}),
      });
    }
    return out;
  }
}

/**
 * Checks that every target exists (one missing → ResourceNotFoundException, nothing created) and
 * returns the job_targets rows, numbered from `firstPosition`.
 */
export async function resolveTargets(tx: Store, jobId: string, targets: ParsedTarget[], firstPosition: number): Promise<JobTargetRow[]> {
  const groupNames = targets.filter((t) => t.type === 'thinggroup').map((t) => t.name);
  const groups = new Map((await tx.thingGroups.getMany([...new Set(groupNames)])).map((g) => [g.group_name, g]));
  const rows: JobTargetRow[] = [];
  for (const [i, t] of targets.entries()) {
    let id: string | undefined;
    if (t.type === 'thing') id = (await tx.things.get(t.name))?.thing_id;
    else id = groups.get(t.name)?.group_id;
    if (id === undefined) throw new DomainError('ResourceNotFoundException', `${t.type === 'thing' ? 'Thing' : 'Thing group'} ${t.name} cannot be found.`);
    rows.push({ job_id: jobId, position: firstPosition + i, target_arn: t.arn, target_type: t.type, target_name: t.name, target_id: id, last_seq: null });
  }
  // Nodes cache which dynamic groups CONTINUOUS jobs follow (dynamic-membership.ts): a new target is news.
  if ([...groups.values()].some((g) => g.query_string !== null)) await tx.fleetIndex.bumpDynamicGeneration();
  return rows;
}

export async function groupPaths(tx: Store, rows: JobTargetRow[]): Promise<Map<string, string>> {
  const names = [...new Set(rows.filter((r) => r.target_type === 'thinggroup').map((r) => r.target_name))];
  return new Map((await tx.thingGroups.getMany(names)).map((g) => [g.group_name, g.path]));
}

export function fanOutTargets(rows: JobTargetRow[], paths: Map<string, string>) {
  return rows.map((r) => ({ position: r.position, type: r.target_type, name: r.target_name, path: paths.get(r.target_name) }));
}
