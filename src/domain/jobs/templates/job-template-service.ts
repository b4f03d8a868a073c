import type { JobRow } from '../../../store/jobs.js';
import type { Store } from '../../../store/store.js';
import { splitIotArn } from '../../arns.js';
import type { DomainContext } from '../../context.js';
import { conflict, invalidRequest, notFound } from '../../errors.js';
import { parseJson } from '../../json.js';
import { decodeToken, page, pageSize } from '../../pagination.js';
import { checkTagList } from '../../tags/tag-rules.js';
import { FieldErrors, NO_CONTROL_CHARS, NO_CONTROL_CHARS_TEXT } from '../../validation.js';
import {
  checkDestinationPackageVersions,
  checkJobConfigs,
  retryTimeoutProblem,
  type JobConfigs,
  type MaintenanceWindow,
  type SchedulingConfig,
} from '../job-config-rules.js';
import type { JobTemplateDefaults, JobTemplateResolver } from '../job-creation.js';
import { MAX_JOB_DOCUMENT_CHARS, resolveParameterPlaceholders, validateJobDocument, type DestinationPackageVersion } from '../job-document.js';
import { effectiveParameters, managedTemplateNotFound } from './managed-template-service.js';
import { findManagedTemplate } from './managed-templates.js';
import { describeTemplateView, readTemplate, type StoredTemplate } from './template-views.js';

const TEMPLATE_ID = /^[a-zA-Z0-9_-]+$/;
const isCreatedKey = (k: unknown): k is [number, string] => Array.isArray(k) && k.length === 2 && typeof k[0] === 'number' && typeof k[1] === 'string';

export const templateNotFound = (id: string) => notFound(`Job Template ${id} cannot be found.`);

/** What a job made from a template starts from, plus the parameters a managed template resolved. */
export interface ResolvedTemplate extends JobTemplateDefaults {
  /** Managed templates: every parameter, optional ones left out as ''. Use these to resolve the document. */
  effectiveParameters?: Record<string, string>;
  /** Managed templates only: AWS answers CreateJob with the managed template's description. */
  description?: string;
}

function checkTemplateId(errors: FieldErrors, value: unknown): string {
  return errors.string(value, 'jobTemplateId', { required: true, min: 1, max: 64, pattern: TEMPLATE_ID, patternText: '[a-zA-Z0-9_-]+' }) ?? '';
}

/**
 * Custom job templates (jobs.md §7.4): CreateJobTemplate (from a document, a documentSource or an
 * existing job), DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate; and resolveForJob, which
 * CreateJob uses for both custom and AWS managed templates.
 */
export class JobTemplateService implements JobTemplateResolver {
  constructor(private readonly ctx: DomainContext) {}

  private arn(id: string): string {
    return this.ctx.arns.jobTemplate(id);
  }

  async createJobTemplate(input: Record<string, unknown>): Promise<{ jobTemplateArn: string; jobTemplateId: string }> {
    const errors = new FieldErrors('InvalidRequestException');
    const id = checkTemplateId(errors, input.jobTemplateId);
    const jobArn = errors.string(input.jobArn, 'jobArn', { min: 1, max: 1600 });
    const documentSource = errors.string(input.documentSource, 'documentSource', { min: 1, max: 1350 });
    const document = errors.string(input.document, 'document', { max: MAX_JOB_DOCUMENT_CHARS });
    const description = errors.string(input.description, 'description', { required: true, max: 2028, pattern: NO_CONTROL_CHARS, patternText: NO_CONTROL_CHARS_TEXT });
    const tags = checkTagList(errors, input.tags);
    const destinations = checkDestinationPackageVersions(errors, input.destinationPackageVersions);
    // With a job to copy from, the timeout that TIMED_OUT retries need may come from the job.
    const requested = checkJobConfigs(errors, input, this.ctx.clock.now(), { forTemplate: true, skipRetryTimeoutRule: jobArn !== undefined });
    errors.throwIfAny();

    if (document !== undefined && documentSource !== undefined) {
      throw invalidRequest('Job document and job document source cannot be specified at the same time.');
    }
    if (document === undefined && documentSource === undefined && jobArn === undefined) {
      throw invalidRequest('Neither job document nor job document source is specified.');
    }
    if (document !== undefined) validateJobDocument(document);

    const arn = this.arn(id);
    return this.ctx.store.transaction(async (tx) => {
      if (await tx.jobTemplates.get(id)) throw conflict(`Job Template ${id} already exists.`, id);
      const base = jobArn === undefined ? {} : await this.fromJob(tx, jobArn);
      // Each member the request gives replaces the job's whole.
      const t: Omit<StoredTemplate, 'jobTemplateId' | 'description' | 'createdAt'> = {
        ...base,
        ...(document !== undefined || documentSource !== undefined ? { document, documentSource } : {}),
        ...definedOnly(requested),
        ...(destinations !== undefined ? { destinationPackageVersions: destinations } : {}),
      };
      const problem = retryTimeoutProblem(t.jobExecutionsRetryConfig, t.timeoutConfig);
      if (problem) throw invalidRequest(problem);
      const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
      const inserted = await tx.jobTemplates.insert({
        job_template_id: id,
        description: description!,
        document: t.document ?? null,
        document_source: t.documentSource ?? null,
        presigned_url_config: json(t.presignedUrlConfig),
        rollout_config: json(t.jobExecutionsRolloutConfig),
        abort_config: json(t.abortConfig),
        timeout_config: json(t.timeoutConfig),
        retry_config: json(t.jobExecutionsRetryConfig),
        maintenance_windows: json(t.maintenanceWindows),
        destination_package_versions: json(t.destinationPackageVersions),
        created_at: this.ctx.clock.now(),
      });
      if (!inserted) throw conflict(`Job Template ${id} already exists.`, id);
      if (tags && Object.keys(tags).length > 0) await tx.tags.put(arn, tags);
      return { jobTemplateArn: arn, jobTemplateId: id };
    });
  }

  /** The document and configuration of an existing job, as a template would hold them. */
  private async fromJob(tx: Store, jobArn: string): Promise<Partial<StoredTemplate>> {
    const parsed = this.ctx.arns.parse(jobArn);
    const jobId = /:job\/([^/]+)$/.exec(jobArn)?.[1];
    if (jobId === undefined) throw invalidRequest(`${jobArn} is not a valid job ARN.`);
    const job = parsed?.resourceType === 'job' && parsed.path.length === 1 ? await tx.jobs.get(jobId) : undefined;
    if (!job) throw notFound(`Job ${jobId} cannot be found.`);
    return templateFromJob(job, (d) => this.ctx.arns.packageVersion(d.packageName, d.requestedVersionName));
  }

  async describeJobTemplate(input: { jobTemplateId?: unknown }) {
    const errors = new FieldErrors('InvalidRequestException');
    const id = checkTemplateId(errors, input.jobTemplateId);
    errors.throwIfAny();
    const row = await this.ctx.store.jobTemplates.get(id);
    if (!row) throw templateNotFound(id);
    return describeTemplateView(readTemplate(row), this.arn(id));
  }

  async listJobTemplates(input: { maxResults?: unknown; nextToken?: string }) {
    const errors = new FieldErrors('InvalidRequestException');
    const limit = pageSize(errors, input.maxResults, 250);
    errors.throwIfAny();
    const after = decodeToken('jobTemplates', input.nextToken, 'InvalidRequestException', isCreatedKey);
    const rows = await this.ctx.store.jobTemplates.list(after && { createdAt: after[0], id: after[1] }, limit + 1);
    const { items, nextToken } = page(rows, limit, 'jobTemplates', (r) => [r.created_at, r.job_template_id]);
    return {
      jobTemplates: items.map((r) => ({
        jobTemplateArn: this.arn(r.job_template_id),
        jobTemplateId: r.job_template_id,
        description: r.description,
        createdAt: new Date(r.created_at),
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async deleteJobTemplate(input: { jobTemplateId?: unknown }): Promise<Record<string, never>> {
    const errors = new FieldErrors('InvalidRequestException');
    const id = checkTemplateId(errors, input.jobTemplateId);
    errors.throwIfAny();
    // Jobs made from the template keep their jobTemplateArn and everything they copied.
    await this.ctx.store.transaction(async (tx) => {
      if (!(await tx.jobTemplates.delete(id))) throw templateNotFound(id);
      await tx.tags.removeAll(this.arn(id));
    });
    return {};
  }

  /**
   * What CreateJob with `jobTemplateArn` starts from. A custom template gives its stored members (and
   * takes no documentParameters); an AWS managed one (`arn:aws:iot:{region}::jobtemplate/{name}:{version}`)
   * gives its document and the checked parameters.
   */
  async resolveForJob(jobTemplateArn: string, documentParameters?: Record<string, string>): Promise<ResolvedTemplate> {
    const parts = splitIotArn(jobTemplateArn);
    if (!parts) throw invalidRequest(`${jobTemplateArn} is not a valid job template ARN.`);
    const { partition, region, account, resourceType, resource } = parts;
    if (resourceType !== 'jobtemplate') throw invalidRequest(`Resource type should be jobtemplate but found invalid resource type ${resourceType}`);
    const here = partition === this.ctx.arns.partition && region === this.ctx.arns.region;
    if (account === '') {
      const colon = resource.lastIndexOf(':');
      const t = here && colon > 0 ? findManagedTemplate(resource.slice(0, colon), resource.slice(colon + 1)) : undefined;
      if (!t) throw managedTemplateNotFound(resource);
      return { document: t.document, effectiveParameters: effectiveParameters(t, documentParameters), description: t.description };
    }
    const row = this.ctx.arns.owns(parts) ? await this.ctx.store.jobTemplates.get(resource) : undefined;
    if (!row) throw templateNotFound(resource);
    if (documentParameters !== undefined) throw invalidRequest('documentParameters can only be used with an AWS managed job template.');
    const { jobTemplateId: _id, description: _d, createdAt: _c, ...members } = readTemplate(row);
    // A template copied from a documentSource job holds the document itself; never hand over both.
    if (members.document !== undefined) delete members.documentSource;
    return members;
  }
}

function definedOnly(c: JobConfigs): Partial<StoredTemplate> {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
}

/**
 * A job's document and configs as a template holds them: the document as given (parameters of a
 * managed template substituted, package placeholders kept so they resolve again for each job) and
 * the destination versions as requested (`$default` stays `$default`).
 */
export function templateFromJob(job: JobRow, versionArn: (d: DestinationPackageVersion) => string): Partial<StoredTemplate> {
  const parameters = parseJson<Record<string, string>>(job.document_parameters);
  const raw = job.raw_document ?? job.document;
  const out: Partial<StoredTemplate> = {};
  if (raw !== null) out.document = parameters ? resolveParameterPlaceholders(raw, parameters) : raw;
  else if (job.document_source !== null) out.documentSource = job.document_source;
  const members: [keyof StoredTemplate, unknown][] = [
    ['presignedUrlConfig', parseJson(job.presigned_url_config)],
    ['jobExecutionsRolloutConfig', parseJson(job.rollout_config)],
    ['abortConfig', parseJson(job.abort_config)],
    ['timeoutConfig', parseJson(job.timeout_config)],
    ['jobExecutionsRetryConfig', parseJson(job.retry_config)],
    ['maintenanceWindows', parseJson<SchedulingConfig>(job.scheduling_config)?.maintenanceWindows as MaintenanceWindow[] | undefined],
    ['destinationPackageVersions', parseJson<DestinationPackageVersion[]>(job.destination_package_versions)?.map(versionArn)],
  ];
  for (const [member, value] of members) if (value !== undefined) (out as Record<string, unknown>)[member] = value;
  return out;
}
